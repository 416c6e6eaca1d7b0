// Every screen: its address, the views (GET /v1/me) that open it, its title and how it draws.
import { sentLog, messageDetail } from './messages.js';

function screen(href, nav, views, title, render, extra = {}) {
  const escaped = href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return { href, nav, views, title, render, pattern: new RegExp(`^${escaped}$`), ...extra };
}

export const SCREENS = [
  screen('/sent', 'Sent messages', ['sent'], 'Sent message log', sentLog, { also: ['/messages/'] }),
  { pattern: /^\/messages\/([^/]+)$/, views: null, title: 'Message', render: messageDetail },
];
