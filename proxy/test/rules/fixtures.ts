// Paths of the bad- and good-config fixtures used by the rules tests.
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/rules/', import.meta.url)).replace(/\/$/, '');
export const EXAMPLE_RULES = fileURLToPath(new URL('../../../rules/', import.meta.url)).replace(/\/$/, '');

export function fixture(name: string): string {
  return `${FIXTURES}/${name}`;
}
