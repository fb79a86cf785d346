/**
 * `nx run reports:publish --dest DIR` — copies the static site to DIR (any static host), checking that
 * every page's links are relative and resolve.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { publishSite } from '@lrscape/report';
import { runStage, workspaceRoot } from './common';

runStage('publish', async (args) => {
  const { values } = parseArgs({ args, options: { dest: { type: 'string' } } });
  if (!values.dest) throw new Error('usage: nx run reports:publish --dest DIR');
  const dest = resolve(values.dest);
  const { files } = await publishSite(resolve(workspaceRoot, 'reports'), dest);
  console.log(`published ${files} files to ${dest}`);
});
