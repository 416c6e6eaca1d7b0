// CSV export: the API answers a report inline (200 text/csv) or, when long or asked (async=true),
// starts an export job (202) whose progress is polled until its download link.
import { h, clear } from './dom.js';
import { request, problemView } from './api.js';

const POLL_MS = 1000;

export async function downloadCsv(region, path, params, { job = false, file = 'report', alive = () => true } = {}) {
  const query = { ...params };
  if (job) query.async = 'true';
  clear(region, h('p', { 'aria-busy': 'true', 'data-state': 'preparing' }, job ? 'Starting the export job…' : 'Preparing the CSV…'));
  try {
    const answer = await request(path, { params: query, accept: 'text/csv' });
    if (answer.status === 202) {
      await poll(region, await answer.json(), alive);
      return;
    }
    const blob = await answer.blob();
    const name = `${file}.csv`;
    const link = h('a', { href: URL.createObjectURL(blob), download: name, class: 'download' }, `Download ${name}`);
    const cut = answer.headers.get('X-Next-Cursor');
    clear(region, h('p', { 'data-state': 'done' }, 'CSV ready: ', link,
      cut ? ' (cut at the inline limit: start an export job for every row)' : ''));
    link.click();
  } catch (error) {
    clear(region, h('div', { role: 'alert', class: 'problem' }, problemView(error)));
  }
}

async function poll(region, started, alive) {
  const progress = h('progress', { 'aria-label': 'Export progress' });
  const words = h('span', null, 'Export job running: 0 rows so far');
  clear(region, h('p', { 'data-state': 'running', 'data-export-id': started.export_id }, progress, ' ', words));
  for (;;) {
    await new Promise((resolve) => { setTimeout(resolve, POLL_MS); });
    if (!alive()) return;
    let job;
    try {
      job = await (await request(`/v1/exports/${encodeURIComponent(started.export_id)}`)).json();
    } catch (error) {
      clear(region, h('div', { role: 'alert', class: 'problem' }, problemView(error)));
      return;
    }
    if (job.status === 'done') {
      clear(region, h('p', { 'data-state': 'done', 'data-export-id': started.export_id },
        `Export job done: ${job.rows ?? 0} rows. `,
        h('a', { href: job.url, class: 'download', rel: 'noopener noreferrer' }, 'Download the CSV'),
        ' (the link is valid for 5 minutes)'));
      return;
    }
    if (job.status === 'failed') {
      clear(region, h('div', { role: 'alert', class: 'problem' },
        h('strong', null, 'The export job failed'), job.error ? h('p', null, String(job.error)) : null));
      return;
    }
    words.textContent = `Export job running: ${job.rows ?? 0} rows so far`;
  }
}
