// Every screen: its address, the views (GET /v1/me) that open it, its title and how it draws.
// A screen with `nav` is in the navigation when one of its views is the caller's.
import { sentLog, messageDetail } from './messages.js';
import { people, recipientLookup, recipientLog } from './people.js';
import { providerEvents, sendsLog, sendsTitle } from './events.js';
import { suppressions } from './suppressions.js';
import { account } from './account.js';
import { activityLog, auditLog, panelLog, apiLog, loginsLog } from './tenant-logs.js';
import { ingestionLog } from './ingestion.js';

function screen(href, nav, views, title, render, extra = {}) {
  const escaped = href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return { href, nav, views, title, render, pattern: new RegExp(`^${escaped}$`), ...extra };
}

export const SCREENS = [
  screen('/sent', 'Sent messages', ['sent'], 'Sent message log', sentLog, { also: ['/messages/'] }),
  screen('/people', 'People', ['people'], 'People', people, { also: ['/people/'] }),
  screen('/recipient', 'Recipient log', ['recipient'], 'Recipient log', recipientLookup, { hideWith: ['people'], also: ['/people/'] }),
  { pattern: /^\/people\/(.+)$/, views: ['recipient'], title: 'Recipient log', render: recipientLog },
  { pattern: /^\/messages\/([^/]+)$/, views: null, title: 'Message', render: messageDetail },
  screen('/events', 'Provider events', ['events'], 'Provider event log', providerEvents),
  screen('/sms', sendsTitle, ['sends'], sendsTitle, sendsLog),
  screen('/suppressions', 'Blacklisted recipients', ['suppressions'], 'Blacklisted recipients', suppressions),
  screen('/account', 'Account logs', ['stats', 'transactions'], 'Account logs', account),
  screen('/activity', 'Activity log', ['activity'], 'Activity log', activityLog),
  screen('/audit', 'Audit log', ['audit'], 'Audit log', auditLog),
  screen('/panel-log', 'Panel log', ['panel-log'], 'Panel log', panelLog),
  screen('/api-log', 'API log', ['api-log'], 'API log', apiLog),
  screen('/logins', 'User logins', ['logins'], 'User logins', loginsLog),
  screen('/ingestion', 'Ingestion log', ['ingestion-log'], 'Ingestion log', ingestionLog),
];
