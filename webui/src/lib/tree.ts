// Messages form a tree (an edit or a regeneration adds a sibling); the
// visible conversation is the path from the root to the current leaf.
import type { Message } from './types';

export function byId(messages: readonly Message[]): Map<string, Message> {
  return new Map(messages.map((m) => [m.id, m]));
}

// Root-to-leaf path ending at `leafId` (empty for null or an unknown id;
// a cycle in corrupt data stops the walk).
export function pathTo(messages: readonly Message[], leafId: string | null): Message[] {
  const index = byId(messages);
  const out: Message[] = [];
  const seen = new Set<string>();
  let m = leafId ? index.get(leafId) : undefined;
  while (m && !seen.has(m.id)) {
    seen.add(m.id);
    out.push(m);
    m = m.parent_id ? index.get(m.parent_id) : undefined;
  }
  return out.reverse();
}

const order = (a: Message, b: Message) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function children(messages: readonly Message[], parentId: string | null): Message[] {
  return messages.filter((m) => m.parent_id === parentId).sort(order);
}

// The versions of a message: those with the same parent and role, oldest first.
export function siblings(messages: readonly Message[], m: Message): Message[] {
  return children(messages, m.parent_id).filter((s) => s.role === m.role);
}

// The leaf reached from `id` by always taking the newest child.
export function newestLeaf(messages: readonly Message[], id: string): string {
  const seen = new Set<string>();
  let cur = id;
  for (;;) {
    if (seen.has(cur)) return cur;
    seen.add(cur);
    const kids = children(messages, cur);
    if (!kids.length) return cur;
    cur = kids[kids.length - 1].id;
  }
}

// When the stored leaf is missing (or null with messages present), the
// newest message's branch is shown.
export function effectiveLeaf(messages: readonly Message[], leaf: string | null): string | null {
  if (leaf && messages.some((m) => m.id === leaf)) return leaf;
  if (!messages.length) return null;
  const newest = [...messages].sort(order)[messages.length - 1];
  return newest.id;
}
