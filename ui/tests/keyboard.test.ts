// Keyboard use of the gallery against the real core (the browser server): the arrows move the
// focus between tiles by the grid's columns and End/Home reach the ends of a virtual grid of
// 10,000 results (scrolled and fetched on the way); the confirm dialog gives the focus back to
// the button that opened it. The whole flow in the real window: tests/e2e/tests/keyboard.rs.
import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../src/App.svelte';
import { seedDemoLibrary, serverPerTest } from './server';

const core = serverPerTest();

async function openGallery(many: number) {
  await seedDemoLibrary(many);
  await core.api.startDemo();
  const user = userEvent.setup();
  render(App, { props: { api: core.api, initial: { screen: 'gallery' } } });
  await screen.findByTestId('gallery');
  await waitFor(() => expect(document.querySelector('[data-index="0"] .open')).not.toBeNull(), { timeout: 5000 });
  return user;
}

/** The gallery position of the tile holding the focus. */
function focusedIndex(): number | null {
  const tile = document.activeElement?.closest('[data-index]');
  return tile ? Number(tile.getAttribute('data-index')) : null;
}

describe('the gallery grid and the keyboard', () => {
  it('moves by the columns with the arrows and reaches both ends of 10,000 results', async () => {
    const user = await openGallery(10_000);
    // Tests lay nothing out: the grid uses its fallback width, 4 columns.
    const columns = Number(/repeat\((\d+)/.exec((document.querySelector('.window') as HTMLElement).style.gridTemplateColumns)?.[1]);
    expect(columns).toBe(4);
    (document.querySelector('[data-index="0"] .open') as HTMLElement).focus();
    await user.keyboard('{ArrowRight}');
    await waitFor(() => expect(focusedIndex()).toBe(1));
    await user.keyboard('{ArrowDown}');
    await waitFor(() => expect(focusedIndex()).toBe(1 + columns));
    await user.keyboard('{ArrowLeft}');
    await waitFor(() => expect(focusedIndex()).toBe(columns));
    await user.keyboard('{ArrowUp}');
    await waitFor(() => expect(focusedIndex()).toBe(0));
    // The last result is far below the rows in the DOM: scrolled to, fetched, then focused.
    await user.keyboard('{End}');
    await waitFor(() => expect(focusedIndex()).toBe(9_999), { timeout: 5000 });
    await user.keyboard('{ArrowUp}');
    await waitFor(() => expect(focusedIndex()).toBe(9_999 - columns));
    await user.keyboard('{Home}');
    await waitFor(() => expect(focusedIndex()).toBe(0), { timeout: 5000 });
    // Enter opens the focused tile.
    await user.keyboard('{Enter}');
    expect(await screen.findByTestId('detail')).toBeInTheDocument();
  }, 30_000);

  it('gives the focus back to the button that opened a confirm dialog', async () => {
    const user = await openGallery(3);
    (document.querySelector('[data-index="0"] .open') as HTMLElement).focus();
    await user.keyboard('{Enter}');
    await screen.findByTestId('detail');
    const del = screen.getByTestId('detail-delete');
    del.focus();
    await user.keyboard('{Enter}');
    await screen.findByTestId('confirm-dialog');
    expect(document.activeElement).toBe(screen.getByTestId('confirm-no'));
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByTestId('confirm-dialog')).toBeNull());
    await waitFor(() => expect(document.activeElement).toBe(del));
    expect(screen.getByTestId('detail')).toBeInTheDocument();
    // Confirmed: the detail closes and the result now at that place has the focus.
    await user.keyboard('{Enter}');
    await screen.findByTestId('confirm-dialog');
    await user.click(screen.getByTestId('confirm-yes'));
    await waitFor(() => expect(screen.queryByTestId('detail')).toBeNull());
    await waitFor(() => expect(focusedIndex()).toBe(0), { timeout: 5000 });
  }, 30_000);
});
