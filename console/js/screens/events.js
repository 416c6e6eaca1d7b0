// Seed 000's Mailgun Message Log (every provider's events) and seed 004's SMS log (the sends log).
import { h } from '../dom.js';
import { time, status, address } from '../format.js';
import { listView } from '../list.js';
import { link } from '../router.js';
import { messageLink, CHANNELS } from './messages.js';

export const EVENTS = ['accepted', 'queued', 'scheduled', 'sent', 'deferred', 'delivered', 'bounced', 'failed', 'dropped',
  'rejected', 'undelivered', 'canceled', 'opened', 'read', 'clicked', 'unsubscribed', 'complained', 'unknown'];
export const PROVIDERS = ['mailgun', 'sendgrid', 'ses', 'postmark', 'twilio'];

function personCell(ctx, personId) {
  if (!personId) return '';
  return ctx.canView('recipient') ? h('a', { href: link(`/people/${encodeURIComponent(`person:${personId}`)}`) }, personId) : personId;
}

export function providerEvents(ctx) {
  return [
    h('p', null, 'What the providers said about each message, newest first. Sorting by another column than the time '
      + 'needs a narrow range (one message, one recipient, or dates holding at most 1,000 events).'),
    listView({
      label: 'Provider event log', file: 'provider-events', path: '/v1/events', defaultSort: 'date',
      search: 'Search any text a row shows',
      filters: [
        { name: 'event', label: 'Event', options: EVENTS },
        { name: 'provider', label: 'Provider', options: PROVIDERS },
        { name: 'channel', label: 'Channel', options: CHANNELS },
        { name: 'recipient', label: 'Recipient address' },
        { name: 'message_id', label: 'Message ID' },
      ],
      rowAttrs: (e) => ({ 'data-event-id': e.event_id || '' }),
      columns: [
        { label: 'Event', sort: 'status', cell: (e) => [status(e.event),
          e.provider_event && e.provider_event !== e.event ? h('span', { class: 'muted' }, ` ${e.provider_event}`) : null] },
        { label: 'Event Time Stamp', sort: 'date', firstOrder: 'desc', cell: (e) => time(e.timestamp) },
        { label: 'Recipient PersonID', sort: 'person_id', cell: (e) => personCell(ctx, e.person_id) },
        { label: 'Recipient Email', sort: 'recipient', cell: (e) => address(e.recipient) },
        { label: 'Subject', sort: 'subject', cell: (e) => (e.message_id ? messageLink(e.message_id, e.subject || e.message_id) : e.subject || '') },
        { label: 'Reason', cell: (e) => [e.reason || '', e.error_code ? h('span', { class: 'muted' }, ` (${e.error_code})`) : null] },
        { label: 'Provider', cell: (e) => e.provider || '' },
      ],
    }, ctx),
  ];
}

// The channels whose sends the caller's rights open (GET /v1/sends answers 403 for another): only
// to offer those and start on one of them; the API decides.
export function sendChannels(me) {
  const rights = me.rights || [];
  if (rights.includes('admin') || rights.includes('logs:sent')) return CHANNELS;
  return CHANNELS.filter(([channel]) => (channel === 'push' ? rights.includes('logs:push')
    : rights.some((right) => right.startsWith(`logs:${channel}:`))));
}

export function sendsTitle({ me }) {
  const channels = sendChannels(me);
  return !channels.length || channels.some(([channel]) => channel === 'sms') ? 'SMS log' : 'Sends log';
}

export function sendsLog(ctx) {
  const channels = sendChannels(ctx.me);
  const first = channels.some(([channel]) => channel === 'sms') ? 'sms' : (channels[0] || ['sms'])[0];
  return [
    h('p', null, 'One row per send (delivery), tenant-wide, newest first.'),
    listView({
      label: 'Sends log', file: 'sends-log', path: '/v1/sends', defaultSort: 'date', defaults: { channel: first },
      search: 'Search',
      filters: [
        { name: 'channel', label: 'Channel', options: channels.length ? channels : CHANNELS, any: false },
        { name: 'status', label: 'Status', options: EVENTS },
      ],
      rowAttrs: (s) => ({ 'data-id': s.send_id }),
      columns: [
        { label: 'ID', cell: (s) => h('code', null, s.send_id) },
        { label: 'Date', sort: 'date', firstOrder: 'desc', cell: (s) => time(s.created_at) },
        { label: 'Message Id', cell: (s) => messageLink(s.message_id) },
        { label: 'Campaign description', cell: (s) => s.campaign || '' },
        { label: 'Subscriber phone', sort: 'recipient', cell: (s) => address(s.address) },
        { label: 'Gateway name', cell: (s) => s.gateway || '' },
        { label: 'Status', sort: 'status', cell: (s) => [status(s.status), s.suppressed ? h('span', { class: 'reason' }, ' blacklisted') : null] },
        { label: 'Error', cell: (s) => s.error || '' },
      ],
    }, ctx),
  ];
}
