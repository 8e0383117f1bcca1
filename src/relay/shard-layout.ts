/** Whether a shard has split, and the children it forwards to (their last digits); stored whole. */
export interface ShardLayout {
  /** Registrations go to the children from now on; members still listed are being handed down. */
  split: boolean;
  children: string[];
}

const EMPTY: ShardLayout = { split: false, children: [] };

export function readLayout(kv: SyncKvStorage): ShardLayout {
  return kv.get<ShardLayout>("layout") ?? EMPTY;
}

/** The layout with `digit` among the children: a shard with a child has split. */
export function withChild(layout: ShardLayout, digit: string): ShardLayout {
  if (layout.split && layout.children.includes(digit)) return layout;
  const children = layout.children.includes(digit) ? layout.children : [...layout.children, digit].sort();
  return { split: true, children };
}

export const isDigit = (digit: string): boolean => /^[0-9a-f]$/.test(digit);
