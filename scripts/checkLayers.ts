/**
 * Prints every forbidden import in src/ (the layer rules of ../shared/ARCHITECTURE.md) and exits 1
 * if there is any. `npm test` runs the same check in test/unit/layerRules.test.ts; this is for
 * running it by hand: `npx tsx scripts/checkLayers.ts [folder]` (default: the repo's src/).
 */
import { resolve } from 'node:path';
import { checkLayers, formatViolation, SRC_ROOT } from '../test/support/layerRules';

const root = process.argv[2] ? resolve(process.argv[2]) : SRC_ROOT;
const violations = checkLayers(root);
for (const v of violations) console.log(formatViolation(v));
console.log(violations.length === 0 ? 'No forbidden imports.' : `${violations.length} forbidden import(s).`);
process.exitCode = violations.length === 0 ? 0 : 1;
