// Seed 002's account logs: messages sent and failed per day and per campaign (charts and a
// preview panel), the enterprise roll-up of linked customers, and the account transactions.
import { h, svg, clear, field, select } from '../dom.js';
import { request, problemView } from '../api.js';
import { time, today, zonedIso, text } from '../format.js';
import { listView } from '../list.js';
import { replaceQuery } from '../router.js';
import { downloadCsv } from '../export.js';
import { CHANNELS } from './messages.js';

const CHANNEL_NAMES = { email: 'E-mail', sms: 'SMS', push: 'Push' };

function sum(channels, channel, key) {
  return Object.entries(channels || {}).filter(([name]) => !channel || name === channel)
    .reduce((total, [, counts]) => total + (counts[key] || 0), 0);
}

function key() {
  return h('div', { class: 'key', 'aria-hidden': 'true' }, h('span', { class: 'swatch-sent' }, 'Sent'), h('span', { class: 'swatch-failed' }, 'Failed'));
}

// Sent and failed per day, stacked; each bar says its numbers in its <title>.
function dayChart(items, channel) {
  const days = [...items].sort((a, b) => a.date.localeCompare(b.date));
  const values = days.map((d) => ({ date: d.date, sent: sum(d.channels, channel, 'sent'), failed: sum(d.channels, channel, 'failed') }));
  const max = Math.max(1, ...values.map((v) => v.sent + v.failed));
  const bar = 16;
  const gap = 6;
  const left = 40;
  const height = 200;
  const width = Math.max(480, left + values.length * (bar + gap) + 10);
  const scale = (n) => (n / max) * (height - 40);
  const titleId = 'chart-days-title';
  return h('figure', null, svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-labelledby': titleId },
    svg('title', { id: titleId }, `Messages sent and failed per day, ${values.length} days`),
    svg('line', { class: 'axis', x1: left, y1: height - 20, x2: width - 5, y2: height - 20 }),
    svg('text', { x: 4, y: 24 }, String(max)), svg('text', { x: 4, y: height - 22 }, '0'),
    values.map((v, i) => {
      const x = left + i * (bar + gap);
      const sentHeight = scale(v.sent);
      const failedHeight = scale(v.failed);
      return svg('g', { 'data-date': v.date },
        svg('title', null, `${v.date}: ${v.sent} sent, ${v.failed} failed`),
        svg('rect', { class: 'bar-sent', x, y: height - 20 - sentHeight, width: bar, height: sentHeight }),
        svg('rect', { class: 'bar-failed', x, y: height - 20 - sentHeight - failedHeight, width: bar, height: failedHeight }),
        i === 0 || i === values.length - 1 || i % 7 === 0 ? svg('text', { x, y: height - 6 }, v.date.slice(5)) : null);
    })), h('figcaption', null, key()));
}

function campaignChart(items) {
  const rows = items.slice(0, 20);
  const max = Math.max(1, ...rows.map((r) => (r.sent || 0) + (r.failed || 0)));
  const left = 260;
  const width = 720;
  const row = 22;
  const height = rows.length * row + 10;
  const titleId = 'chart-campaigns-title';
  return h('figure', null, svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-labelledby': titleId },
    svg('title', { id: titleId }, `Messages sent and failed per campaign, ${rows.length} campaigns`),
    rows.map((r, i) => {
      const y = 5 + i * row;
      const sentWidth = ((r.sent || 0) / max) * (width - left - 50);
      const failedWidth = ((r.failed || 0) / max) * (width - left - 50);
      const label = `${r.campaign || '(no campaign)'} · ${CHANNEL_NAMES[r.channel] || r.channel}`;
      return svg('g', null, svg('title', null, `${label}: ${r.sent} sent, ${r.failed} failed`),
        svg('text', { x: 4, y: y + 14 }, label.length > 40 ? `${label.slice(0, 39)}…` : label),
        svg('rect', { class: 'bar-sent', x: left, y, width: sentWidth, height: row - 6 }),
        svg('rect', { class: 'bar-failed', x: left + sentWidth, y, width: failedWidth, height: row - 6 }),
        svg('text', { x: left + sentWidth + failedWidth + 4, y: y + 14 }, `${r.sent}/${r.failed}`));
    })), h('figcaption', null, key(), rows.length < items.length ? h('p', { class: 'muted' }, `The 20 latest of ${items.length} campaigns.`) : null));
}

function totalsTable(totals) {
  return h('table', { class: 'log', 'data-region': 'totals' }, h('caption', { class: 'visually-hidden' }, 'Totals per channel'),
    h('thead', null, h('tr', null, ['Channel', 'Messages', 'Recipients', 'Sent', 'Failed'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', null, Object.entries(totals || {}).map(([channel, counts]) => h('tr', null,
      h('th', { scope: 'row' }, CHANNEL_NAMES[channel] || channel), h('td', null, String(counts.messages)),
      h('td', null, String(counts.recipients)), h('td', null, String(counts.sent)), h('td', null, String(counts.failed))))));
}

function preview(panel, row) {
  clear(panel, h('h3', null, row.campaign || '(no campaign)'),
    h('dl', { class: 'summary', 'data-region': 'preview' },
      h('dt', null, 'Channel'), h('dd', null, CHANNEL_NAMES[row.channel] || row.channel),
      h('dt', null, 'Send Amount'), h('dd', null, String(row.sent)),
      h('dt', null, 'Failed Amount'), h('dd', null, String(row.failed)),
      h('dt', null, 'Send Date'), h('dd', null, row.first_date === row.last_date ? row.first_date : `${row.first_date} – ${row.last_date}`),
      h('dt', null, 'Sent By'), h('dd', null, text(row.sent_by)),
      h('dt', null, 'Lists'), h('dd', null, text(row.lists)),
      h('dt', null, 'Messages'), h('dd', null, String(row.messages)),
      h('dt', null, 'Recipients'), h('dd', null, String(row.recipients))));
  panel.focus();
}

function campaignTable(items, panel) {
  if (!items.length) return h('p', { 'data-state': 'empty' }, 'Nothing here');
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Campaigns' }, h('table', { class: 'log', 'data-region': 'campaigns' },
    h('caption', { class: 'visually-hidden' }, 'Messages per campaign'),
    h('thead', null, h('tr', null, ['Message subject / campaign', 'Channel', 'Sent', 'Failed', 'Send date', 'Sent by', 'Lists']
      .map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', null, items.map((row) => h('tr', null,
      h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', onclick: () => preview(panel, row) }, row.campaign || '(no campaign)')),
      h('td', null, CHANNEL_NAMES[row.channel] || row.channel), h('td', null, String(row.sent)), h('td', null, String(row.failed)),
      h('td', null, row.first_date === row.last_date ? row.first_date : `${row.first_date} – ${row.last_date}`),
      h('td', null, text(row.sent_by)), h('td', null, text(row.lists)))))));
}

function customerTable(items) {
  if (!items.length) return h('p', { 'data-state': 'empty' }, 'Nothing here: this account has no linked customers (an enterprise sees its customers here).');
  return h('table', { class: 'log', 'data-region': 'customers' }, h('caption', { class: 'visually-hidden' }, 'Messages per customer'),
    h('thead', null, h('tr', null, ['Customer', 'E-mail sent', 'E-mail failed', 'SMS sent', 'SMS failed', 'Push sent', 'Push failed']
      .map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', null, items.map((row) => h('tr', { 'data-customer': row.customer },
      h('th', { scope: 'row' }, row.customer_name || row.customer),
      ['email', 'sms', 'push'].map((channel) => [h('td', null, String(sum(row.channels, channel, 'sent'))),
        h('td', null, String(sum(row.channels, channel, 'failed')))])))));
}

export function account(ctx) {
  const state = {
    from: ctx.query.get('from') || today(-89), to: ctx.query.get('to') || today(),
    channel: ctx.query.get('channel') || '', q: ctx.query.get('q') || '',
  };
  const parts = [];
  if (ctx.canView('stats')) {
    const errorRegion = h('div', { role: 'alert', class: 'problem', 'data-region': 'error' });
    const exportRegion = h('div', { role: 'status', class: 'export' });
    const days = h('div', { 'aria-busy': 'true' });
    const totals = h('div');
    const campaigns = h('div', { 'aria-busy': 'true' });
    const panel = h('aside', { class: 'panel', tabindex: '-1', 'aria-label': 'Preview', 'data-region': 'preview-panel' },
      h('p', { class: 'muted' }, 'Choose a campaign to preview it.'));
    const customers = h('div', { 'aria-busy': 'true' });
    const params = () => ({ from: zonedIso(state.from, '00:00:00'), to: zonedIso(state.to, '23:59:59.999'), channel: state.channel, q: state.q });
    const load = async () => {
      clear(errorRegion);
      [days, campaigns, customers].forEach((region) => region.setAttribute('aria-busy', 'true'));
      try {
        const [byDay, byCampaign, byCustomer] = await Promise.all(['day', 'campaign', 'customer']
          .map((group) => request('/v1/stats', { params: { ...params(), group } }).then((a) => a.json())));
        clear(totals, totalsTable(byDay.totals));
        clear(days, byDay.items.length ? dayChart(byDay.items, state.channel) : h('p', { 'data-state': 'empty' }, 'Nothing here'));
        clear(campaigns, h('div', { class: 'split' }, h('div', null, byCampaign.items.length ? campaignChart(byCampaign.items) : null,
          campaignTable(byCampaign.items, panel)), panel));
        clear(customers, customerTable(byCustomer.items));
      } catch (error) {
        clear(errorRegion, problemView(error));
        [days, campaigns, customers].forEach((region) => clear(region));
      } finally {
        [days, campaigns, customers].forEach((region) => region.setAttribute('aria-busy', 'false'));
      }
    };
    const form = h('form', {
      class: 'filters', 'aria-label': 'Account log dates',
      onsubmit: (event) => {
        event.preventDefault();
        for (const [name, value] of new FormData(event.target).entries()) state[name] = String(value).trim();
        replaceQuery(ctx.path, state);
        load();
      },
    },
    field('Start', h('input', { type: 'date', name: 'from', value: state.from, required: true })),
    field('End', h('input', { type: 'date', name: 'to', value: state.to, required: true })),
    field('Channel', select('channel', [['', 'Every channel'], ...CHANNELS], state.channel)),
    field('Campaign or subject', h('input', { type: 'search', name: 'q', value: state.q })),
    h('button', { type: 'submit' }, 'Apply'));
    const exports = h('div', { class: 'toolbar' }, [['day', 'per day'], ['campaign', 'per campaign'], ['customer', 'per customer']].map(([group, words]) =>
      h('button', { type: 'button', onclick: () => downloadCsv(exportRegion, '/v1/stats', { ...params(), group, format: 'csv' },
        { file: `account-log-${group}`, alive: () => form.isConnected }) }, `Export CSV ${words}`)));
    parts.push(
      h('p', null, `Counts of messages sent and failed (days in the tenant's time zone), at most 366 days.`),
      form, exports, exportRegion, errorRegion,
      h('section', { 'aria-labelledby': 'totals-h' }, h('h2', { id: 'totals-h' }, 'Total messages sent'), totals),
      h('section', { 'aria-labelledby': 'days-h' }, h('h2', { id: 'days-h' }, 'Sent and failed per day'), days),
      h('section', { 'aria-labelledby': 'campaigns-h' }, h('h2', { id: 'campaigns-h' }, 'Messages per campaign'), campaigns),
      h('section', { 'aria-labelledby': 'customers-h' }, h('h2', { id: 'customers-h' }, 'Enterprise: customers'), customers),
    );
    load();
  }
  if (ctx.canView('transactions')) {
    parts.push(listView({
        label: 'Transactions', heading: 'Transactions', file: 'transactions', path: '/v1/transactions', defaultSort: 'date', remember: false,
        search: 'Search transactions',
        filters: [{ name: 'type', label: 'Type', options: ['package', 'top-up'] },
          { name: 'customer', label: 'Customer (id, or * for every linked customer)' }],
        rowAttrs: (t) => ({ 'data-id': t.id }),
        columns: [
          { label: 'Date', sort: 'date', firstOrder: 'desc', cell: (t) => time(t.at) },
          { label: 'Type', cell: (t) => t.type || '' },
          { label: 'Channel', cell: (t) => CHANNEL_NAMES[t.channel] || t.channel || '' },
          { label: 'Credits', cell: (t) => String(t.credits ?? '') },
          { label: 'Amount', cell: (t) => (t.amount ? `${t.amount} ${t.currency || ''}` : '') },
          { label: 'Description', cell: (t) => t.description || '' },
          { label: 'Customer', cell: (t) => t.customer_name || t.customer || '' },
          { label: 'By', cell: (t) => (t.actor && (t.actor.name || t.actor.id)) || '' },
        ],
      }, { ...ctx, query: new URLSearchParams() }));
  }
  return parts;
}
