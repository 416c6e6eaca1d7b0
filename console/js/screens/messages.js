// Seed 000's Sent Message Log, and one message's detail: recipients with their status and the
// counts, the event timeline, the body while it is kept and the date it was purged after.
import { h, clear } from '../dom.js';
import { request, problemView } from '../api.js';
import { time, status, text, person, mergeFields, address } from '../format.js';
import { listView } from '../list.js';
import { link } from '../router.js';

export const MESSAGE_STATUSES = ['scheduled', 'sent', 'error', 'canceled'];
export const CHANNELS = [['email', 'E-mail'], ['sms', 'SMS'], ['push', 'Push']];

export function messageLink(id, label) {
  return h('a', { href: `#/messages/${encodeURIComponent(id)}` }, label || id);
}

export function sentLog(ctx) {
  return [listView({
    label: 'Sent message log', file: 'sent-messages', path: '/v1/messages', defaultSort: 'created_at',
    search: 'Search any text a row shows',
    filters: [
      { name: 'status', label: 'Status', options: MESSAGE_STATUSES },
      { name: 'channel', label: 'Channel', options: CHANNELS },
      { name: 'category', label: 'Message type' },
      { name: 'org_unit', label: 'District/School' },
      { name: 'sender', label: 'Sender' },
    ],
    fromLabel: 'Created from', toLabel: 'Created to',
    rowAttrs: (m) => ({ 'data-id': m.message_id }),
    columns: [
      { label: 'Status', sort: 'status', cell: (m) => status(m.status) },
      { label: 'Message Type', sort: 'category', cell: (m) => m.category || '' },
      { label: 'District/School', sort: 'org_unit', cell: (m) => m.org_unit || '' },
      { label: 'Message Subject', sort: 'subject', cell: (m) => messageLink(m.message_id, m.subject || '(no subject)') },
      { label: 'Sender', sort: 'sender', cell: (m) => person(m.sender) },
      { label: 'Channel', cell: (m) => m.channel },
      { label: 'Date Created', sort: 'created_at', firstOrder: 'desc', cell: (m) => time(m.created_at) },
      { label: 'Date Scheduled', sort: 'scheduled_at', firstOrder: 'desc', cell: (m) => time(m.scheduled_at) },
      { label: 'ScheduleID', sort: 'schedule_id', cell: (m) => m.schedule_id || '' },
      { label: 'Recipients', cell: (m) => countOf(m, 'recipients') },
      { label: 'Sent', cell: (m) => countOf(m, 'sent') },
      { label: 'Failed', cell: (m) => countOf(m, 'failed') },
    ],
  }, ctx)];
}

function countOf(message, name) {
  return message.counts ? String(message.counts[name] ?? 0) : '';
}

const COUNT_WORDS = [
  ['recipients', 'Recipients'], ['pending', 'Pending'], ['sent', 'Sent'], ['delivered', 'Delivered'],
  ['failed', 'Failed'], ['opened', 'Opened'], ['clicked', 'Clicked'], ['unsubscribed', 'Unsubscribed'],
  ['complained', 'Complained'],
];

function summary(message) {
  const rows = [
    ['Status', status(message.status)], ['Channel', message.channel], ['Message type', message.category],
    ['District/School', message.org_unit], ['Sender', person(message.sender)],
    ['Date created', time(message.created_at)], ['Date scheduled', time(message.scheduled_at)],
    ['Schedule ID', message.schedule_id], ['Campaign', message.campaign], ['Lists', text(message.lists)],
    ['Provider', message.provider], ['Message ID', h('code', null, message.message_id)],
  ];
  return h('dl', { class: 'summary' }, rows.filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([label, value]) => [h('dt', null, label), h('dd', null, value)]));
}

function counts(message) {
  const values = message.counts || {};
  return h('section', { 'aria-labelledby': 'counts-h' }, h('h2', { id: 'counts-h' }, 'Counts'),
    h('dl', { class: 'counts', 'data-region': 'counts' }, COUNT_WORDS.map(([key, label]) => h('div', { 'data-count': key },
      h('dt', null, label), h('dd', null, String(values[key] ?? 0))))));
}

function body(message) {
  const content = [];
  if (message.body && (message.body.text || message.body.html)) {
    if (message.body.text) content.push(h('h3', null, 'Text'), h('pre', { class: 'body-text' }, message.body.text));
    if (message.body.html) {
      content.push(h('details', null, h('summary', null, 'HTML source'), h('pre', { class: 'body-html' }, message.body.html)));
    }
  } else if (message.text) {
    content.push(h('pre', { class: 'body-text' }, message.text));
  } else if (message.body_erased_at) {
    content.push(h('p', { 'data-state': 'erased' }, 'The body was erased on ', time(message.body_erased_at),
      ' (its only recipient was erased; the statuses, times and counts stay, anonymous).'));
  } else if (message.body_purged_at) {
    content.push(h('p', { 'data-state': 'purged' }, 'The body was purged on ', time(message.body_purged_at),
      ' (bodies are kept for the tenant\'s retention period after sending; the metadata stays).'));
  } else {
    content.push(h('p', { 'data-state': 'no-body' }, 'No body was recorded for this message.'));
  }
  return h('section', { 'aria-labelledby': 'body-h' }, h('h2', { id: 'body-h' }, 'Body'), content);
}

function timeline(message, ctx) {
  const events = [...(message.events || [])].sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)));
  return h('section', { 'aria-labelledby': 'timeline-h', class: 'timeline-section' },
    h('h2', { id: 'timeline-h' }, 'Event timeline'),
    events.length
      ? h('ol', { class: 'timeline', 'data-region': 'timeline' }, events.map((event) => h('li', { 'data-event': event.event },
        time(event.timestamp), ' ', status(event.event), ' ',
        h('span', { class: 'recipient' }, address(event.recipient) || event.person_id || ''),
        event.provider ? h('span', { class: 'muted' }, ` via ${event.provider}`
          + (event.provider_event && event.provider_event !== event.event ? ` (${event.provider_event})` : '')) : null,
        event.reason ? h('span', { class: 'reason' }, ` — ${event.reason}`) : null)))
      : h('p', { 'data-state': 'empty' }, 'Nothing here: no provider event yet.'),
    ctx.canView('events')
      ? h('p', null, h('a', { href: link('/events', { message_id: message.message_id }) }, 'Every provider event of this message'))
      : null);
}

// What the provider said: how many statuses changed, and whether it is all of them (a rate limit
// half way leaves the rest for a second press).
function refreshSummary(answer) {
  const moved = answer.recipients.filter((r) => r.changed)
    .map((r) => `${r.address}: ${r.status_before} → ${r.status_after}`);
  const said = moved.length ? `${moved.length} changed (${moved.join('; ')})` : 'No status changed';
  const rest = answer.complete ? '' : ` — not every recipient was asked; try again${
    answer.retry_after ? ` in ${answer.retry_after} s` : ''}`;
  return `${said}.${rest}`;
}

function refreshButton(id, after) {
  const out = h('span', { role: 'status', class: 'refresh-status' });
  const button = h('button', {
    type: 'button',
    onclick: async () => {
      button.disabled = true;
      clear(out, 'Asking the provider…');
      try {
        const answer = await (await request(`/v1/messages/${encodeURIComponent(id)}/refresh`, { method: 'POST' })).json();
        clear(out, refreshSummary(answer));
        after();
      } catch (error) {
        clear(out, h('span', { role: 'alert', class: 'problem' }, problemView(error)));
      } finally {
        button.disabled = false;
      }
    },
  }, 'Refresh status');
  return h('p', null, button, ' ', out);
}

export function messageDetail(ctx) {
  const [id] = ctx.args;
  const top = h('div', { class: 'detail-top', 'data-region': 'message' });
  const rest = h('div', { class: 'detail-rest' });
  let drawn = false;
  const list = listView({
    label: 'Recipients', heading: 'Recipients', path: `/v1/messages/${encodeURIComponent(id)}`, itemsKey: 'recipients',
    search: false, dates: false, csv: false, remember: true, defaultSort: 'recipient', defaultOrder: 'asc',
    rowAttrs: (r) => ({ 'data-address': r.address || '' }),
    onData: (message) => {
      if (drawn) return;
      drawn = true;
      clear(top, summary(message), counts(message));
      clear(rest, body(message), timeline(message, ctx));
      const heading = document.querySelector('main h1');
      if (heading && message.subject) heading.textContent = `Message: ${message.subject}`;
    },
    columns: [
      { label: 'Recipient', sort: 'recipient', firstOrder: 'asc', cell: (r) => r.name || address(r.address) },
      { label: 'Address', cell: (r) => address(r.address) },
      { label: 'Role', cell: (r) => r.role || '' },
      { label: 'Person ID', cell: (r) => (r.person_id && ctx.canView('recipient')
        ? h('a', { href: `#/people/person:${encodeURIComponent(r.person_id)}` }, r.person_id) : r.person_id || '') },
      { label: 'Status', sort: 'status', cell: (r) => [status(r.status), r.status_reason ? h('span', { class: 'reason' }, ` ${r.status_reason}`) : null] },
      { label: 'Last activity', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.last_event_at) },
      { label: 'Merge fields', cell: (r) => mergeFields(r.fields) },
    ],
  }, ctx);
  return [top, refreshButton(id, () => { drawn = false; list.reload(); }), list, rest];
}
