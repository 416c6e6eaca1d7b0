// Seed 001's "Blacklisted Recipients": bounce, complaint, invalid, validate; an administrator may
// add an address or reset one (DELETE, after a confirmation); every change is audited by the API.
import { h, clear, field, select } from '../dom.js';
import { request, problemView } from '../api.js';
import { time, status } from '../format.js';
import { listView } from '../list.js';
import { confirmAction } from '../confirm.js';

const REASONS = [
  ['bounce', 'Bounce: the receiving server rejected it (hard bounce)'],
  ['complaint', 'Complaint: marked as spam'],
  ['invalid', 'Invalid: could not be validated'],
  ['validate', 'Validate: being validated'],
];

export function suppressionsList(ctx, fixed = {}, { compact = false } = {}) {
  const canWrite = ctx.has('suppressions:write');
  const done = h('p', { role: 'status', class: 'muted', 'data-region': 'reset-status' });
  let list;
  async function reset(item) {
    const sure = await confirmAction(`Reset ${item.address}?`,
      'Messages will be sent to this address again. It is usually better to ask the family for another address.', 'Reset');
    if (!sure) return;
    try {
      await request(`/v1/suppressions/${encodeURIComponent(item.address)}`, { method: 'DELETE' });
      clear(done, `${item.address} was reset: it is no longer blacklisted.`);
      list.reload();
    } catch (error) {
      clear(done, h('span', { role: 'alert', class: 'problem' }, problemView(error)));
    }
  }
  list = listView({
    label: 'Blacklisted recipients', heading: compact ? 'Blacklisted Recipients' : undefined, file: 'blacklisted-recipients', path: '/v1/suppressions', fixed,
    dates: false, search: compact ? false : 'Search addresses', remember: !compact, csv: !compact, job: !compact,
    filters: compact ? [] : [{ name: 'reason', label: 'Status', options: REASONS.map(([value]) => value) }],
    empty: compact ? 'Nothing here: no blacklisted address.' : undefined,
    rowAttrs: (s) => ({ 'data-address': s.address }),
    columns: [
      { label: 'Address', header: true, cell: (s) => s.address },
      { label: 'Status', cell: (s) => status(s.reason) },
      { label: 'Detail', cell: (s) => s.detail || '' },
      { label: 'Source', cell: (s) => s.source || '' },
      { label: 'Provider', cell: (s) => s.provider || '' },
      { label: 'Added', cell: (s) => time(s.created_at) },
      { label: 'Added by', cell: (s) => s.created_by || '' },
      ...(canWrite ? [{ label: 'Actions', cell: (s) => h('button', { type: 'button', class: 'danger', 'aria-label': `Reset ${s.address}`,
        onclick: () => reset(s) }, 'Reset') }] : []),
    ],
  }, compact ? { ...ctx, query: new URLSearchParams() } : ctx);
  return [done, list];
}

function addForm(ctx, after) {
  const address = h('input', { type: 'email', name: 'address', required: true, autocomplete: 'off' });
  const reason = select('reason', REASONS.map(([value]) => value), 'invalid');
  const note = h('input', { type: 'text', name: 'note' });
  const out = h('div', { role: 'alert', class: 'problem' });
  const said = h('p', { role: 'status', class: 'muted' });
  return h('details', { class: 'panel' }, h('summary', null, 'Add an address'),
    h('form', {
      class: 'filters',
      onsubmit: async (event) => {
        event.preventDefault();
        clear(out);
        try {
          await request(`/v1/suppressions/${encodeURIComponent(address.value.trim())}`, { method: 'PUT',
            body: { reason: reason.value, ...(note.value.trim() ? { note: note.value.trim() } : {}) } });
          clear(said, `${address.value.trim()} is blacklisted (${reason.value}).`);
          address.value = '';
          note.value = '';
          after();
        } catch (error) {
          clear(out, problemView(error));
        }
      },
    }, field('Address', address), field('Status', reason), field('Note', note), h('button', { type: 'submit' }, 'Add')),
    out, said);
}

export function suppressions(ctx) {
  const parts = suppressionsList(ctx);
  const legend = h('dl', { class: 'legend' }, REASONS.map(([value, words]) => [h('dt', null, value), h('dd', null, words.split(': ')[1])]));
  return [
    h('p', null, 'Addresses no message is sent to: hard bounces, complaints and invalid addresses are added as the providers report them.'),
    ctx.has('suppressions:write') ? addForm(ctx, () => parts[1].reload()) : null,
    ...parts,
    h('details', null, h('summary', null, 'What the statuses mean'), legend),
  ];
}
