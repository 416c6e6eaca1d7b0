// Times in the tenant's time zone (GET /v1/me's time_zone), and the small words of the logs.
import { h } from './dom.js';

let zone = 'UTC';
let dateTime = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', dateStyle: 'medium', timeStyle: 'short' });
let dateOnly = new Intl.DateTimeFormat('en-CA', { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit' });

export function setTimeZone(name) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name }); // throws RangeError for an unknown zone
    zone = name;
  } catch {
    zone = 'UTC'; // the API's times stay right, only shown in UTC (the header says which zone)
  }
  dateTime = new Intl.DateTimeFormat('en-US', { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' });
  dateOnly = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
}

export function timeZone() {
  return zone;
}

// <time datetime="the API's ISO value">the tenant's wall time</time>
export function time(iso) {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso);
  return h('time', { datetime: iso, title: iso }, dateTime.format(at));
}

// Today's date (YYYY-MM-DD) in the tenant's zone, moved by `days`.
export function today(days = 0) {
  return dateOnly.format(new Date(Date.now() + days * 86400000));
}

// The offset of the tenant's zone at an instant, in minutes east of UTC.
function offsetAt(ms) {
  const parts = {};
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  for (const part of format.formatToParts(new Date(ms))) parts[part.type] = part.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour % 24, +parts.minute, +parts.second);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
}

// A date input's value (YYYY-MM-DD) at a wall time in the tenant's zone, as ISO 8601 with offset.
export function zonedIso(date, wallTime = '00:00:00') {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date || '');
  if (!match) return date;
  const [hh, mm, ss] = wallTime.split(':').map(Number);
  const guess = Date.UTC(+match[1], +match[2] - 1, +match[3], hh, mm, ss);
  let offset = offsetAt(guess);
  offset = offsetAt(guess - offset * 60000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, '0');
  return `${date}T${wallTime}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const STATUS_CLASS = {
  delivered: 'ok', sent: 'ok', opened: 'ok', read: 'ok', clicked: 'ok', success: 'ok',
  accepted: 'wait', queued: 'wait', scheduled: 'wait', deferred: 'wait', sending: 'wait', validate: 'wait',
  bounced: 'bad', failed: 'bad', dropped: 'bad', rejected: 'bad', undelivered: 'bad', error: 'bad',
  complained: 'bad', unsubscribed: 'bad', bounce: 'bad', complaint: 'bad', invalid: 'bad',
  canceled: 'muted', unknown: 'muted',
};

export function status(value) {
  if (value === null || value === undefined || value === '') return '';
  return h('span', { class: `status status-${STATUS_CLASS[String(value).toLowerCase()] || 'muted'}` }, String(value));
}

export function text(value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${text(v)}`).join('; ');
  return String(value);
}

export function person(actor) {
  if (!actor) return '';
  if (typeof actor === 'string') return actor;
  return actor.name || actor.email || actor.id || '';
}

// Merge fields as the API gives them: values ({"student.firstname": "John"}) for a caller with
// logs:recipient-fields, names only otherwise.
export function mergeFields(fields) {
  if (!fields) return '';
  if (Array.isArray(fields)) return h('span', { class: 'fields' }, fields.map((name) => h('code', null, name)));
  const entries = Object.entries(fields);
  if (!entries.length) return '';
  if (entries.every(([name, value]) => name === value)) { // names only: no logs:recipient-fields
    return h('span', { class: 'fields', 'data-fields': 'names' }, entries.map(([name]) => h('code', null, name)));
  }
  return h('dl', { class: 'fields', 'data-fields': 'values' }, entries.map(([name, value]) => [
    h('dt', null, h('code', null, name)), h('dd', null, value === null ? '—' : String(value))]));
}

// An address as the logs show it; an erased person's pseudonym (`erased:<hash>`) said in words.
export function address(value) {
  if (!value) return '';
  if (String(value).startsWith('erased:')) {
    return h('span', { class: 'erased', title: String(value), 'data-erased': 'true' }, 'erased person');
  }
  return String(value);
}
