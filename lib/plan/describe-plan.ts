import { ServicePlan, WRITE_HOOKS, WritePath } from './service-plan';

const READ_ACTIONS = new Set(['Retrieve', 'List', 'ListPage']);

const WRITES_SAID: Readonly<Record<WritePath, string>> = {
  'one-statement': 'one statement, without a transaction',
  'one-flush': "one flush, in MikroORM's transaction",
  transaction: 'in a transaction',
};

/** One line per action the service has: the path it takes and why not a faster one (`grpc-framework check`). */
export function describePlan(plan: ServicePlan, actions: readonly string[]): string[] {
  const lines: string[] = [];
  for (const action of actions) {
    if (READ_ACTIONS.has(action)) {
      const { path, reasons } = plan.reads;
      lines.push(`${action}: ${path === 'columns' ? 'reads columns straight into messages' : `loads entities (${reasons.join('; ')})`}`);
    } else if (action in WRITE_HOOKS) {
      const { path, reasons } = plan.writes[action as keyof typeof WRITE_HOOKS];
      const insert = action === 'Create' && path === 'one-statement' ? describeInsert(plan) : '';
      lines.push(`${action}: ${WRITES_SAID[path]}${reasons.length ? ` (${reasons.join('; ')})` : ''}${insert}`);
    }
  }
  return lines;
}

/** How a new row is written: a statement compiled once, or MikroORM's flush and why. */
function describeInsert(plan: ServicePlan): string {
  if (plan.insertReason) return `, through MikroORM's flush (${plan.insertReason})`;
  const { path, reasons } = plan.create;
  return path === 'unmanaged'
    ? ' (an INSERT compiled once, from the validated data without a managed entity)'
    : ` (an INSERT compiled once, of a managed entity: ${reasons.join('; ')})`;
}
