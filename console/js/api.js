// The API client: the token, the configured base URL, and errors as the problem+json says them.
import { h } from './dom.js';

const TOKEN_KEY = 'msglog.console.token';
let config = { apiBase: '' };

export async function loadConfig() {
  try {
    const answer = await fetch('config.json', { cache: 'no-store' });
    if (answer.ok) config = { ...config, ...(await answer.json()) };
  } catch {
    // no config.json: same origin
  }
  return config;
}

export function getConfig() {
  return config;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value.trim());
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, problem) {
    const title = problem.title || problem.message || `HTTP ${status}`;
    super(title);
    this.status = status;
    this.title = title;
    this.detail = problem.detail || '';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

export function url(path, params) {
  const base = (config.apiBase || location.origin).replace(/\/+$/, '');
  const target = new URL(base + path);
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') target.searchParams.set(name, value);
  }
  return target.toString();
}

// Sends the request with the token; answers the Response (2xx) or throws ApiError.
export async function request(path, { method = 'GET', params, body, accept } = {}) {
  const headers = { Authorization: `Bearer ${token() || ''}` };
  if (accept) headers.Accept = accept;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let answer;
  try {
    answer = await fetch(url(path, params), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', referrerPolicy: 'no-referrer',
    });
  } catch (error) {
    throw new ApiError(0, { title: 'The API could not be reached', detail: String(error.message || error) });
  }
  if (answer.ok) return answer;
  let problem = {};
  try {
    problem = await answer.json();
  } catch {
    problem = { title: `${answer.status} ${answer.statusText}` };
  }
  const error = new ApiError(answer.status, problem);
  if (answer.status === 401) window.dispatchEvent(new CustomEvent('msglog:unauthorized', { detail: error }));
  throw error;
}

export async function getJson(path, params) {
  return (await request(path, { params })).json();
}

// The problem as a user reads it: title, detail, and each field at fault.
export function problemView(error) {
  const title = error instanceof ApiError ? error.title : 'Something went wrong';
  const detail = error instanceof ApiError ? error.detail : String(error && error.message ? error.message : error);
  const errors = error instanceof ApiError ? error.errors : [];
  return [
    h('strong', { class: 'problem-title' }, title),
    error && error.status ? h('span', { class: 'problem-status' }, ` (${error.status})`) : null,
    detail ? h('p', { class: 'problem-detail' }, detail) : null,
    errors.length
      ? h('ul', { class: 'problem-fields' }, errors.map((e) => h('li', { 'data-field': e.field || '' },
        e.field ? h('code', null, e.field) : null, e.field ? ': ' : '', e.message || '')))
      : null,
  ];
}
