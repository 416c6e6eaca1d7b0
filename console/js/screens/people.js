// Seed 000's people search and Recipient Log; seed 001's family/staff Email, SMS and Push logs
// (one recipient log with a tab per channel) and its "Blacklisted Recipients" section.
import { h, clear, field } from '../dom.js';
import { time, status, text, address } from '../format.js';
import { listView } from '../list.js';
import { link } from '../router.js';
import { messageLink } from './messages.js';
import { suppressionsList } from './suppressions.js';

export function recipientHref(recipient, params) {
  return link(`/people/${encodeURIComponent(recipient)}`, params);
}

function openForm() {
  const input = h('input', { type: 'text', name: 'recipient', required: true, placeholder: 'name@example.com, +15551234567, person:P1, family:F1' });
  return h('form', {
    class: 'filters', 'aria-label': 'Open a recipient log',
    onsubmit: (event) => {
      event.preventDefault();
      if (input.value.trim()) location.hash = recipientHref(input.value.trim());
    },
  }, field('Address, person:<id> or family:<id>', input), h('button', { type: 'submit' }, 'Open recipient log'));
}

export function recipientLookup() {
  return [h('p', null, 'Open the log of one address, one person or one family.'), openForm()];
}

export function people(ctx) {
  return [
    h('p', null, 'Find a person by the start of a word of their name, an address or their id, then open their recipient log or their family\'s.'),
    listView({
      label: 'People', file: 'people', path: '/v1/people', search: 'Search people', dates: false, csv: false,
      rowAttrs: (p) => ({ 'data-person-id': p.person_id }),
      columns: [
        { label: 'Name', header: true, cell: (p) => h('a', { href: recipientHref(`person:${p.person_id}`) }, p.name || p.person_id) },
        { label: 'Person ID', cell: (p) => p.person_id },
        { label: 'Role', cell: (p) => p.role || '' },
        { label: 'Family', cell: (p) => (p.family_id ? h('a', { href: recipientHref(`family:${p.family_id}`) }, p.family_id) : '') },
        { label: 'Addresses', cell: (p) => (p.addresses || []).map((a, i) => [i ? ', ' : '', h('a', { href: recipientHref(a) }, a)]) },
        { label: 'District/School', cell: (p) => text(p.org_units) },
        { label: 'Last message', cell: (p) => time(p.last_message_at) },
      ],
    }, ctx),
    h('h2', null, 'Open a recipient log directly'),
    openForm(),
  ];
}

const TABS = [['', 'All'], ['email', 'E-mail'], ['sms', 'SMS'], ['push', 'Push']];

function statusCell(r) {
  return [status(r.status), r.outcome && r.outcome !== r.status ? h('span', { class: 'muted' }, ` (${r.outcome})`) : null,
    r.stuck ? h('span', { class: 'reason' }, ' no answer from the SMS provider yet') : null,
    r.suppressed ? h('span', { class: 'reason' }, ' blacklisted') : null,
    r.status_reason ? h('span', { class: 'reason' }, ` ${r.status_reason}`) : null];
}

function bodyCell(r) {
  return r.body_kept ? (r.text || '') : h('span', { class: 'muted', 'data-state': 'purged' }, 'not kept');
}

function view(r) {
  return messageLink(r.message_id, r.body_kept ? 'View' : 'Details');
}

const COLUMNS = {
  '': [
    { label: 'Date/Time', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.last_event_at || r.created_at) },
    { label: 'Channel', cell: (r) => r.channel },
    { label: 'Recipient', sort: 'recipient', cell: (r) => [r.name ? `${r.name} ` : '', h('span', { class: 'muted' }, address(r.address))] },
    { label: 'Subject', cell: (r) => r.subject || '' },
    { label: 'Sender', cell: (r) => (r.sender && (r.sender.name || r.sender.id)) || '' },
    { label: 'Status', sort: 'status', cell: statusCell },
    { label: 'Message', cell: view },
  ],
  email: [
    { label: 'Date/Time', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.last_event_at || r.created_at) },
    { label: 'Recipient Email', sort: 'recipient', cell: (r) => address(r.address) },
    { label: 'Subject', cell: (r) => r.subject || '' },
    { label: 'Delivery Status', sort: 'status', cell: statusCell },
    { label: 'Email', cell: view },
  ],
  sms: [
    { label: 'Date/Time', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.last_event_at || r.created_at) },
    { label: 'Recipient Phone', sort: 'recipient', cell: (r) => address(r.address) },
    { label: 'Message Text', cell: bodyCell },
    { label: 'Delivery Status', sort: 'status', cell: statusCell },
    { label: 'Message', cell: view },
  ],
  push: [
    { label: 'Date/Time', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.created_at) },
    { label: 'Subject', cell: (r) => r.subject || '' },
    { label: 'Message Text', cell: bodyCell },
    { label: 'Status', sort: 'status', cell: statusCell },
    { label: 'Message', cell: view },
  ],
};

export function recipientLog(ctx) {
  const [recipient] = ctx.args;
  const channel = ctx.query.get('channel') || '';
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Channels' }, h('ul', null, TABS.map(([value, label]) => h('li', null,
    h('a', { href: recipientHref(recipient, { channel: value }), 'aria-current': value === channel ? 'page' : null }, label)))));
  const who = h('p', { class: 'muted', 'data-region': 'recipient' }, `Messages sent to ${recipient}`);
  const list = listView({
    label: `Recipient log${channel ? ` (${channel})` : ''}`, file: `recipient-log-${channel || 'all'}`,
    path: `/v1/recipients/${encodeURIComponent(recipient)}/messages`, fixed: channel ? { channel } : {},
    defaultSort: 'date', search: 'Search any field',
    filters: [{ name: 'status', label: 'Status', options: ['accepted', 'queued', 'sent', 'deferred', 'delivered', 'bounced',
      'failed', 'dropped', 'rejected', 'undelivered', 'canceled', 'opened', 'read', 'clicked', 'unsubscribed', 'complained'] }],
    rowAttrs: (r) => ({ 'data-id': r.message_id }),
    onData: (data) => {
      const first = (data.items || [])[0];
      if (first && first.name && recipient.startsWith('person:')) {
        clear(who, `Messages sent to ${first.name} (${recipient})`,
          first.family_id ? [' · ', h('a', { href: recipientHref(`family:${first.family_id}`, { channel }) }, `their family's log (${first.family_id})`)] : null);
      }
    },
    columns: COLUMNS[channel] || COLUMNS[''],
  }, { ...ctx, keep: { channel } });
  const parts = [who, tabs, list];
  const [kind, id] = recipient.split(/:(.*)/s);
  if ((channel === '' || channel === 'email') && ctx.canView('suppressions') && (kind === 'person' || kind === 'family') && id) {
    parts.push(suppressionsList(ctx, { [`${kind}_id`]: id }, { compact: true }));
  }
  return parts;
}
