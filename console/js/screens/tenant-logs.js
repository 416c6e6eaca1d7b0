// The logs around the messages: seed 001's activity and audit logs, seed 004's panel, API and
// user-login logs.
import { h } from '../dom.js';
import { time, status, text, person } from '../format.js';
import { listView } from '../list.js';

function details(value) {
  if (!value || (typeof value === 'object' && !Object.keys(value).length)) return '';
  return h('span', { class: 'details' }, text(value));
}

const ENTITY_FILTERS = [
  { name: 'entity', label: 'Record (family:12)' }, { name: 'actor', label: 'Who' },
  { name: 'action', label: 'Action' }, { name: 'ip', label: 'IP address' },
];

export function activityLog(ctx) {
  return [h('p', null, 'Actions the families took themselves (portal, app): enrollment requests, e-mail submissions…'),
    listView({
      label: 'Activity log', file: 'activity-log', path: '/v1/activity', defaultSort: 'date', filters: ENTITY_FILTERS,
      rowAttrs: (r) => ({ 'data-id': r.id }),
      columns: [
        { label: 'Date/Time', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.at) },
        { label: 'IP Address', cell: (r) => r.ip || '' },
        { label: 'Name', cell: (r) => person(r.actor) },
        { label: 'Action Performed', cell: (r) => r.action || '' },
        { label: 'Record', cell: (r) => r.entity || '' },
        { label: 'Details', cell: (r) => details(r.details) },
      ],
    }, ctx)];
}

export function auditLog(ctx) {
  return [h('p', null, 'Every change by staff and by the system, including the service\'s own (credentials, settings, '
    + 'blacklist resets, purges, erasures). Entries are never changed or deleted.'),
  listView({
    label: 'Audit log', file: 'audit-log', path: '/v1/audit', defaultSort: 'date', filters: ENTITY_FILTERS,
    rowAttrs: (r) => ({ 'data-id': r.id }),
    columns: [
      { label: 'Date/Time', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.at) },
      { label: 'IP Address', cell: (r) => r.ip || '' },
      { label: 'Name', cell: (r) => person(r.actor) },
      { label: 'Action', cell: (r) => r.action || '' },
      { label: 'Record', cell: (r) => r.entity || '' },
      { label: 'Details', cell: (r) => details(r.details) },
      { label: 'Written by', cell: (r) => r.source || '' },
    ],
  }, ctx)];
}

export function panelLog(ctx) {
  return [h('p', null, 'Actions users performed in the panel (the front end).'),
    listView({
      label: 'Panel log', file: 'panel-log', path: '/v1/panel-log', defaultSort: 'date',
      filters: [{ name: 'user', label: 'User' }, { name: 'method', label: 'Method', options: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
        { name: 'status', label: 'Status' }, { name: 'ip', label: 'Remote IP' }],
      rowAttrs: (r) => ({ 'data-id': r.id }),
      columns: [
        { label: 'ID', cell: (r) => h('code', null, r.id) },
        { label: 'Date', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.at) },
        { label: 'Url', cell: (r) => r.url || '' },
        { label: 'Method', cell: (r) => r.method || '' },
        { label: 'E-mail', cell: (r) => (r.actor && (r.actor.email || r.actor.name || r.actor.id)) || '' },
        { label: 'Remote IP', cell: (r) => r.ip || '' },
        { label: 'Actions', cell: (r) => [r.status ? `status ${r.status}` : '', r.user_agent ? h('span', { class: 'muted' }, ` ${r.user_agent}`) : null,
          r.details ? [' ', details(r.details)] : null] },
      ],
    }, ctx)];
}

export function apiLog(ctx) {
  return [h('p', null, 'Every call to this API. The content of the calls is never stored.'),
    listView({
      label: 'API log', file: 'api-log', path: '/v1/api-log', defaultSort: 'date',
      filters: [{ name: 'caller', label: 'Caller' }, { name: 'method', label: 'Method', options: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
        { name: 'status', label: 'Status' }],
      rowAttrs: (r) => ({ 'data-id': r.id }),
      columns: [
        { label: 'ID', cell: (r) => h('code', null, r.id) },
        { label: 'Date', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.at) },
        { label: 'Url', cell: (r) => r.path || r.url || r.route || '' },
        { label: 'Method', cell: (r) => r.method || '' },
        { label: 'Status', cell: (r) => String(r.status ?? '') },
        { label: 'Remote IP', cell: (r) => r.ip || '' },
        { label: 'Caller', cell: (r) => person(r.actor) },
      ],
    }, ctx)];
}

export function loginsLog(ctx) {
  return [h('p', null, 'Every successful and failed login, with the user\'s last success and last failure.'),
    listView({
      label: 'User logins', file: 'user-logins', path: '/v1/logins', defaultSort: 'date',
      filters: [{ name: 'user', label: 'User' }, { name: 'status', label: 'Login', options: ['success', 'failed'] },
        { name: 'ip', label: 'IP address' }],
      rowAttrs: (r) => ({ 'data-id': r.id }),
      columns: [
        { label: 'Name', cell: (r) => (r.actor && (r.actor.name || r.actor.id)) || '' },
        { label: 'E-mail', cell: (r) => (r.actor && r.actor.email) || '' },
        { label: 'Login', cell: (r) => status(r.status) },
        { label: 'Date', sort: 'date', firstOrder: 'desc', cell: (r) => time(r.at) },
        { label: 'Successful login date', cell: (r) => time(r.last_success_at) },
        { label: 'Last failed login date', cell: (r) => time(r.last_failure_at) },
        { label: 'Country', cell: (r) => r.country || '' },
        { label: 'State', cell: (r) => r.state || '' },
        { label: 'City', cell: (r) => r.city || '' },
        { label: 'IP', cell: (r) => r.ip || '' },
      ],
    }, ctx)];
}
