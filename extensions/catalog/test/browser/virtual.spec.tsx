// @vitest-environment jsdom
import { cleanup, fireEvent, render } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { visibleRange, VirtualList } from '../../src/browser/virtual';

afterEach(cleanup);

describe('visibleRange', () => {
  it('covers the viewport and the overscan, clamped to the list', () => {
    expect(visibleRange(10000, 40, 0, 400, 8)).toEqual([0, 18]);
    expect(visibleRange(10000, 40, 4000, 400, 8)).toEqual([92, 118]);
    expect(visibleRange(10000, 40, 399600, 400, 8)).toEqual([9982, 10000]);
    expect(visibleRange(5, 40, 0, 400, 8)).toEqual([0, 5]);
    expect(visibleRange(0, 40, 0, 400, 8)).toEqual([0, 0]);
  });
});

describe('VirtualList', () => {
  const items = Array.from({ length: 100000 }, (_, at) => `dataset-${at}`);

  function renderList() {
    return render(
      <VirtualList
        items={items}
        rowHeight={40}
        height={400}
        className="rows"
        itemKey={item => item}
        rowProps={item => ({ 'data-key': item })}
        renderRow={item => <span>{item}</span>}
      />
    );
  }

  it('puts only the rows in view in the page, with spacers of the full height', () => {
    const { container } = renderList();
    const rows = container.querySelectorAll('li[data-key]');
    expect(rows).toHaveLength(18);
    expect(rows[0].textContent).toBe('dataset-0');
    const spacer = container.querySelector<HTMLElement>(
      'li[aria-hidden="true"]'
    );
    expect(spacer?.style.height).toBe(`${(100000 - 18) * 40}px`);
  });

  it('renders the rows of a scroll position', () => {
    const { container } = renderList();
    const box = container.querySelector<HTMLElement>(
      '.jp-EspriVre-virtualBox'
    )!;
    box.scrollTop = 2000000;
    fireEvent.scroll(box);
    const keys = Array.from(container.querySelectorAll('li[data-key]')).map(
      row => row.getAttribute('data-key')
    );
    expect(keys[0]).toBe('dataset-49992');
    expect(keys).toContain('dataset-50005');
    expect(keys).toHaveLength(26);
  });
});
