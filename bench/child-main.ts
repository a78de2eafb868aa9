import { serveRole, type Role } from './child';
import { baselineServer, towlineServer } from './inbound-servers';
import { readLoop, rebuildRole } from './replay.bench';
import { storeFloorRole } from './floors';

/** Entry of the bench's child processes (child.ts): `node dist/bench/child-main.js <role>`. */
const roles: Record<string, Role<any, unknown>> = {
  baseline: baselineServer,
  towline: towlineServer,
  'read-loop': readLoop,
  rebuild: rebuildRole,
  'store-floor': storeFloorRole,
};

const role = roles[process.argv[2] ?? ''];
if (!role || !process.send) {
  console.error(`usage: forked by bench/child.ts with one of: ${Object.keys(roles).join(', ')}`);
  process.exit(2);
}
serveRole(role);
