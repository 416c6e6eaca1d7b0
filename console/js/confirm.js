// A modal confirmation (<dialog>): resolves true only when the action's own button is pressed.
import { h } from './dom.js';

export function confirmAction(question, detail, actionLabel) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'aria-labelledby': 'confirm-h', 'data-region': 'confirm' },
      h('h2', { id: 'confirm-h' }, question),
      detail ? h('p', null, detail) : null,
      h('form', { method: 'dialog', class: 'toolbar' },
        h('button', { type: 'submit', value: 'yes', class: 'danger' }, actionLabel),
        h('button', { type: 'submit', value: 'no', autofocus: true }, 'Cancel')));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
