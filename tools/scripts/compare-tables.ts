/**
 * Compares two artifact trees table by table, column by column (e.g. the tables of a refactor against those
 * made before it): `tsx tools/scripts/compare-tables.ts <artifacts-before> <artifacts-after> [experiment…]`.
 * Values must be equal, or for floats within `--tolerance` relative (default 1e-5: float32 noise of values
 * summed in another order). `runs.seconds` (wall time) and the schema metadata are not compared; a column
 * present on one side only is listed. Exits 1 on any difference.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';

const args = process.argv.slice(2);
const toleranceArg = args.indexOf('--tolerance');
const tolerance = toleranceArg >= 0 ? Number(args.splice(toleranceArg, 2)[1]) : 1e-5;
const [before, after, ...only] = args;
if (!before || !after) {
  console.error('usage: compare-tables.ts <artifacts-before> <artifacts-after> [experiment…] [--tolerance 1e-5]');
  process.exit(2);
}
const IGNORED = new Set(['runs.seconds']);

const experiments = only.length ? only : readdirSync(before).filter((e) => existsSync(join(before, e, 'tables')));
let differences = 0;
let compared = 0;
for (const experiment of experiments) {
  for (const folder of ['tables', 'claims']) {
    const dirA = join(before, experiment, folder);
    if (!existsSync(dirA)) continue;
    for (const file of readdirSync(dirA).filter((f) => f.endsWith('.arrow'))) {
      const table = file.replace(/\.arrow$/, '');
      const pathB = join(after, experiment, folder, file);
      if (!existsSync(pathB)) {
        console.log(`${experiment}/${table}: missing after`);
        differences++;
        continue;
      }
      const a = tableFromIPC(readFileSync(join(dirA, file)));
      const b = tableFromIPC(readFileSync(pathB));
      const namesA = a.schema.fields.map((f) => f.name);
      const namesB = b.schema.fields.map((f) => f.name);
      const onlyOne = [...namesA.filter((n) => !namesB.includes(n)).map((n) => `-${n}`), ...namesB.filter((n) => !namesA.includes(n)).map((n) => `+${n}`)];
      if (onlyOne.length) console.log(`${experiment}/${table}: columns on one side only: ${onlyOne.join(' ')}`);
      if (a.numRows !== b.numRows) {
        console.log(`${experiment}/${table}: ${a.numRows} rows before, ${b.numRows} after`);
        differences++;
        continue;
      }
      let worst = 0;
      for (const name of namesA.filter((n) => namesB.includes(n))) {
        if (IGNORED.has(`${table}.${name}`)) continue;
        const colA = a.getChild(name)!.toArray();
        const colB = b.getChild(name)!.toArray();
        let bad = 0;
        let first = -1;
        for (let i = 0; i < a.numRows; i++) {
          const x = colA[i];
          const y = colB[i];
          let same = x === y || (Number.isNaN(x) && Number.isNaN(y));
          if (!same && typeof x === 'number' && typeof y === 'number') {
            const rel = Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-30);
            same = rel <= tolerance;
            if (same) worst = Math.max(worst, rel);
          }
          if (!same) {
            bad++;
            if (first < 0) first = i;
          }
        }
        compared++;
        if (bad) {
          differences++;
          console.log(`${experiment}/${table}.${name}: ${bad} of ${a.numRows} rows differ (first: row ${first}, ${colA[first]} vs ${colB[first]})`);
        }
      }
      console.log(`${experiment}/${table}: ${a.numRows} rows, ${namesA.length} columns${worst > 0 ? `, largest relative difference ${worst.toExponential(1)}` : ', identical'}`);
    }
  }
}
console.log(`${compared} columns compared, ${differences} differ`);
process.exit(differences ? 1 : 0);
