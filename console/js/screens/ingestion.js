// Seed 003's admin logs: what became of each webhook request, every outcome code explained in
// words, and the ingestion-health state ("are ANY e-mails logging?").
import { h, clear } from '../dom.js';
import { request } from '../api.js';
import { time } from '../format.js';
import { listView } from '../list.js';
import { link } from '../router.js';
import { messageLink } from './messages.js';
import { PROVIDERS } from './events.js';

export const CODES = {
  LOG_OK: 'The event was logged: it is on its message and recipient.',
  LOG_LINKED: 'The event arrived before its message was recorded (NOLOG_UNMATCHED then); it was linked to the message when the message was recorded (linked at the time shown).',
  LOG_RECOVERED: 'The event was fetched from the provider afterwards by a recovery run (make recover) and logged.',
  NOLOG_DUPLICATE: 'The provider sent this event again (a retry); it was logged once, the copy was not.',
  NOLOG_UNMATCHED: 'No recorded message matches this event yet. It is kept, and linked (LOG_LINKED) as soon as its message is recorded; check that the sender passes the message id to the provider.',
  NOLOG_ERASED: 'The event is about a person who was erased since: it is dropped, not logged.',
  NOLOG_MALFORMED: 'The request, or an item of the batch, could not be read (missing or invalid fields). The item is kept raw here (unless privacy mode is on) and nothing of it was logged.',
  NOLOG_BAD_SIGNATURE: 'The signature or the credentials did not verify: the request was refused (401) and nothing was logged. Check the signing key or credentials set for this provider.',
  NOLOG_REPLAYED_TOKEN: 'A Mailgun token that was already used, with other content: refused as a possible replay.',
  NOLOG_NO_RECIPS: 'Every recipient is internal (one of the tenant\'s own domains, logging policy internal_domains): internal mail is not logged.',
  NOLOG_ALL_IGNORED: 'The recipient is on the tenant\'s ignore list (logging policy ignore_addresses): intentionally not logged.',
  NOLOG_CONTENT: 'The subject matched one of the tenant\'s ignore patterns (logging policy ignore_subject_patterns): intentionally not logged.',
  ALERT_NO_WEBHOOKS: 'The ingestion-health check noticed that no webhooks came from this provider for longer than usual, and alerted (repeated daily until they come back).',
  ALERT_RECOVERED: 'Webhooks from this provider arrive again: the ingestion-health incident is closed.',
};

function codeWords(code) {
  return CODES[code] || 'An outcome this console has no words for yet.';
}

function outcomesCell(row) {
  return h('ul', { class: 'codes' }, Object.entries(row.outcomes || {}).map(([code, count]) => h('li', { 'data-code': code },
    h('span', { class: 'code' }, code), count > 1 ? ` ×${count}` : '', h('span', { class: 'muted' }, ` — ${codeWords(code)}`))));
}

function eventsCell(row) {
  const events = row.events || [];
  const malformed = row.malformed || [];
  if (!events.length && !malformed.length) return row.detail || '';
  return [
    events.length ? h('ul', { class: 'codes' }, events.slice(0, 5).map((e) => h('li', null,
      h('span', { class: 'code' }, e.code), ' ', e.event || '', ' ',
      e.message_id ? messageLink(e.message_id, e.subject || e.message_id) : (e.subject || ''),
      e.recipient ? h('span', { class: 'muted' }, ` ${e.recipient}`) : null,
      e.linked_at ? h('span', { class: 'muted' }, [' linked ', time(e.linked_at)]) : null))) : null,
    events.length > 5 ? h('p', { class: 'muted' }, `and ${events.length - 5} more`) : null,
    malformed.length ? h('p', { class: 'reason' }, `${malformed.length} malformed item(s): ${malformed.map((m) => m.fields).filter(Boolean).join('; ')}`) : null,
    row.detail ? h('p', { class: 'muted' }, row.detail) : null,
  ];
}

const STATES = {  // GET /v1/ingestion-health's states, in words
  logging: ['status-ok', 'logging', 'webhooks arrive as usual'],
  refused: ['status-bad', 'refused', 'requests came whose signature or credentials did not verify (NOLOG_BAD_SIGNATURE), and none since that did: check the signing key or credentials set for this provider'],
  silent: ['status-wait', 'silent', 'quieter than usual for longer than the grace: the next check (every 15 minutes) alerts'],
  alerted: ['status-bad', 'not logging', 'the check alerted; the alert repeats daily until webhooks come back'],
  learning: ['status-muted', 'learning', 'too little history to know what usual is: no alert will come yet'],
};

function healthPanel(shown) {
  const [style, word, words] = STATES[shown.state] || ['status-muted', shown.state, ''];
  const incident = shown.incident;
  return h('div', { class: 'panel', 'data-provider': shown.provider, 'data-health': shown.state },
    h('h3', null, shown.provider),
    h('p', null, h('span', { class: `status ${style}` }, word), h('span', { class: 'muted' }, ` — ${words}`)),
    incident ? h('p', null, 'Silent since ', time(incident.silent_since), ', alerted ', time(incident.alerted_at),
      incident.reminders ? ` (${incident.reminders} daily reminder${incident.reminders > 1 ? 's' : ''})` : '') : null,
    h('p', null, 'Last webhook: ', shown.last_webhook_hour ? ['in the hour from ', time(shown.last_webhook_hour)] : 'none lately',
      shown.threshold_hours != null ? ` · usual quiet spell plus grace: ${shown.threshold_hours} h` : '',
      ' · ', h('a', { href: link('/ingestion', { provider: shown.provider }) }, 'its requests')));
}

async function drawHealth(region) {
  try {
    const { providers } = await (await request('/v1/ingestion-health')).json();
    if (!providers.length) {
      clear(region, h('p', { 'data-state': 'empty', 'data-health': 'none' },
        'No provider is configured: webhooks cannot be verified, so none is logged. An administrator sets them up under the tenant\'s providers.'));
      return;
    }
    clear(region, h('div', { class: 'health' }, providers.map(healthPanel)));
  } catch (error) {
    clear(region, h('p', { class: 'reason' }, `The health state could not be read: ${error.title || error.message}`));
  }
}

export function ingestionLog(ctx) {
  const health = h('div', { 'aria-busy': 'true', 'data-region': 'health' }, h('p', { class: 'loading' }, 'Reading the health state…'));
  drawHealth(health).then(() => health.setAttribute('aria-busy', 'false'));
  const legend = h('dl', { class: 'legend', 'data-region': 'codes' },
    Object.entries(CODES).map(([code, words]) => [h('dt', { id: `code-${code}` }, code), h('dd', null, words)]));
  return [
    h('section', { 'aria-labelledby': 'health-h' }, h('h2', { id: 'health-h' }, 'Are webhooks logging?'), health),
    h('p', null, 'Each webhook request and what became of its events. With privacy mode on, recipients are not recorded here; '
      + 'the time and the subject always are: search by subject.'),
    listView({
      label: 'Ingestion log', file: 'ingestion-log', path: '/v1/ingestion-log', defaultSort: 'date',
      search: 'Search subject, event or recipient',
      filters: [
        { name: 'provider', label: 'Provider', options: [...PROVIDERS, 'api'] },
        { name: 'outcome', label: 'Outcome', options: Object.keys(CODES) },
      ],
      rowAttrs: (r) => ({ 'data-id': r.id }),
      columns: [
        { label: 'Date', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.received_at) },
        { label: 'Provider', cell: (r) => r.provider || '' },
        { label: 'Outcome', cell: outcomesCell },
        { label: 'Events', cell: eventsCell },
      ],
    }, ctx),
    h('section', { 'aria-labelledby': 'codes-h' }, h('h2', { id: 'codes-h' }, 'What the outcome codes mean'), legend),
  ];
}
