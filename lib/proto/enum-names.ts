/** `darkBlue`, `dark-blue`, `DarkBlue` -> `DARK_BLUE`: how entity enum values are named in protos. */
export function upperSnake(value: unknown): string {
  return String(value)
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
}

/**
 * The entity value a proto enum name stands for: `GADGET_COLOR_BLUE` -> `'blue'` when `'blue'`
 * is a choice. Names ending in `_UNSPECIFIED` (proto3's zero value) mean "not set".
 */
export function choiceOfEnumName(name: string, choices: readonly (string | number)[]): string | number | undefined | null {
  let best: { choice: string | number; length: number } | undefined;
  for (const choice of choices) {
    const key = upperSnake(choice);
    if ((name === key || name.endsWith(`_${key}`)) && (!best || key.length > best.length)) best = { choice, length: key.length };
  }
  if (best) return best.choice;
  return name.endsWith('_UNSPECIFIED') ? undefined : null;
}
