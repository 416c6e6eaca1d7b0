// One log list: the seed's columns, sort buttons where the API sorts, filters, search, date
// range, cursor paging and CSV export (inline, or the export job with its progress).
import { h, clear, field, select, nextId } from './dom.js';
import { ApiError, request, problemView } from './api.js';
import { downloadCsv } from './export.js';
import { zonedIso } from './format.js';
import { replaceQuery } from './router.js';

const PAGE_SIZE = 50;

function toParams(state, spec) {
  const params = { ...(spec.fixed || {}) };
  for (const [name, value] of Object.entries(state)) {
    if (value === '' || value === undefined || value === null) continue;
    if (name === 'from') params.from = zonedIso(value, '00:00:00');
    else if (name === 'to') params.to = zonedIso(value, '23:59:59.999');
    else params[name] = value;
  }
  return params;
}

function stateFrom(query, spec) {
  const names = ['q', 'from', 'to', 'sort', 'order', 'limit', ...(spec.filters || []).map((f) => f.name)];
  const state = { ...(spec.defaults || {}) };
  for (const name of names) if (query.has(name)) state[name] = query.get(name);
  return state;
}

export function listView(spec, route) {
  const state = stateFrom(route.query, spec);
  const pages = [null]; // the cursor of each page seen, for "Previous page"
  let page = 0;
  let nextCursor = null;
  const errorRegion = h('div', { role: 'alert', class: 'problem', 'data-region': 'error' });
  const statusLine = h('p', { class: 'list-status', role: 'status' });
  const results = h('div', { class: 'results', 'aria-busy': 'true', 'data-state': 'loading' });
  const exportRegion = h('div', { class: 'export', role: 'status', 'data-region': 'export' });
  const previous = h('button', { type: 'button', disabled: true, onclick: () => go(page - 1) }, 'Previous page');
  const next = h('button', { type: 'button', disabled: true, onclick: () => go(page + 1) }, 'Next page');
  const captionId = nextId('caption');

  const form = filtersForm();
  const toolbar = h('div', { class: 'toolbar' },
    spec.csv === false ? null : [
      h('button', { type: 'button', onclick: () => exportCsv(false) }, 'Export CSV'),
      spec.job === false ? null : h('button', { type: 'button', onclick: () => exportCsv(true) }, 'Start export job'),
    ]);
  const root = h('section', { class: 'list', 'aria-labelledby': captionId },
    h('h2', { id: captionId, class: spec.heading ? '' : 'visually-hidden' }, spec.heading || spec.label),
    form, toolbar, exportRegion, errorRegion, results,
    h('div', { class: 'pager' }, previous, next, statusLine));

  function filtersForm() {
    const controls = [];
    if (spec.search !== false) {
      controls.push(field(spec.search || 'Search', h('input', { type: 'search', name: 'q', value: state.q || '' })));
    }
    for (const filter of spec.filters || []) {
      const control = filter.options
        ? select(filter.name, [...(filter.any === false ? [] : [['', filter.any || 'Any']]), ...filter.options], state[filter.name])
        : h('input', { type: 'text', name: filter.name, value: state[filter.name] || '', placeholder: filter.placeholder });
      controls.push(field(filter.label, control));
    }
    if (spec.dates !== false) {
      controls.push(field(spec.fromLabel || 'From', h('input', { type: 'date', name: 'from', value: state.from || '' })));
      controls.push(field(spec.toLabel || 'To', h('input', { type: 'date', name: 'to', value: state.to || '' })));
    }
    if (!controls.length) return null;
    return h('form', {
      class: 'filters', role: 'search', 'aria-label': `Filter ${spec.label}`,
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        for (const [name, value] of data.entries()) state[name] = String(value).trim();
        reset();
      },
    }, controls, h('button', { type: 'submit' }, 'Apply'));
  }

  function remember() {
    if (spec.remember !== false) replaceQuery(route.path, { ...route.keep, ...state });
  }

  function reset() {
    pages.length = 1;
    page = 0;
    remember();
    load();
  }

  function go(index) {
    if (index < 0 || index >= pages.length + (nextCursor ? 1 : 0)) return;
    if (index === pages.length) pages.push(nextCursor);
    page = index;
    load();
  }

  function sortBy(column) {
    const active = state.sort || spec.defaultSort;
    if (active === column.sort) {
      state.order = (state.order || spec.defaultOrder || 'desc') === 'desc' ? 'asc' : 'desc';
    } else {
      state.order = column.firstOrder || 'asc';
    }
    state.sort = column.sort;
    reset();
  }

  // A sort the API refused (400 naming `sort`: too many rows in range to sort) leaves no table, so
  // no column to click: the way back to the list's own order, which any range allows.
  function sortInstead(error) {
    const fallback = spec.columns.find((column) => column.sort === spec.defaultSort);
    const refused = error instanceof ApiError && error.status === 400 && error.errors.some((e) => e.field === 'sort');
    if (!refused || !fallback || !state.sort || state.sort === spec.defaultSort) return null;
    return h('p', null, h('button', {
      type: 'button',
      onclick: () => {
        state.sort = '';
        state.order = '';
        reset();
      },
    }, `Sort by ${fallback.label.toLowerCase()} instead`));
  }

  function header(column) {
    const active = state.sort || spec.defaultSort;
    const order = state.order || spec.defaultOrder || 'desc';
    if (!column.sort) return h('th', { scope: 'col' }, column.label);
    const sorted = active === column.sort;
    return h('th', { scope: 'col', 'aria-sort': sorted ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', 'data-sort': column.sort, onclick: () => sortBy(column) },
        column.label));
  }

  function table(items) {
    return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': `${spec.label} rows` }, h('table', { class: 'log' },
      h('caption', { class: 'visually-hidden' }, spec.label),
      h('thead', null, h('tr', null, spec.columns.map(header))),
      h('tbody', null, items.map((item) => h('tr', spec.rowAttrs ? spec.rowAttrs(item) : null,
        spec.columns.map((column) => h(column.header ? 'th' : 'td', column.header ? { scope: 'row' } : null,
          column.cell(item))))))));
  }

  let loading = 0;
  async function load() {
    const ticket = ++loading;
    results.setAttribute('aria-busy', 'true');
    results.dataset.state = 'loading';
    if (!results.firstChild) results.append(h('p', { class: 'loading' }, 'Loading…'));
    clear(errorRegion);
    previous.disabled = true;
    next.disabled = true;
    const params = { limit: PAGE_SIZE, ...toParams(state, spec) };
    if (pages[page]) params.cursor = pages[page];
    try {
      const answer = await request(typeof spec.path === 'function' ? spec.path(state) : spec.path, { params });
      const data = await answer.json();
      if (ticket !== loading) return;
      const items = data[spec.itemsKey || 'items'] || [];
      nextCursor = data.next_cursor || answer.headers.get('X-Next-Cursor') || null;
      if (spec.onData) spec.onData(data, state);
      clear(results, items.length ? table(items)
        : h('p', { class: 'empty', 'data-state': 'empty' }, spec.empty || 'Nothing here'));
      results.dataset.state = items.length ? 'loaded' : 'empty';
      statusLine.textContent = `Page ${page + 1}: ${items.length} ${items.length === 1 ? 'row' : 'rows'}`
        + (nextCursor ? ', more on the next page' : '');
      previous.disabled = page === 0;
      next.disabled = !nextCursor;
    } catch (error) {
      if (ticket !== loading) return;
      clear(results);
      results.dataset.state = 'error';
      clear(errorRegion, problemView(error), sortInstead(error));
      if (spec.onError) spec.onError(error);
    } finally {
      if (ticket === loading) results.setAttribute('aria-busy', 'false');
    }
  }

  function exportCsv(job) {
    const params = { ...toParams(state, spec), format: 'csv', limit: 200 };
    const path = typeof spec.path === 'function' ? spec.path(state) : spec.path;
    return downloadCsv(exportRegion, path, params, { job, file: spec.file, alive: () => root.isConnected });
  }

  load();
  root.reload = () => load();
  return root;
}
