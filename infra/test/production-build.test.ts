/**
 * Test code does not ship: the projects the service images compile (`tsc -b <service>`: the
 * service and common) include no test, no test kit and nothing that imports one, and the test
 * kit's packages are development dependencies, which the images' `npm ci --omit=dev` leaves out.
 */
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { readRepoFile, ROOT, SERVICES } from './manifests';

/** The source files a tsconfig compiles, relative to the repository root. */
function compiledFiles(project: string): string[] {
  const path = join(ROOT, project);
  const { config, error } = ts.readConfigFile(path, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(config, ts.sys, dirname(path)).fileNames.map((file) => relative(ROOT, file));
}

const TEST_CODE = /\.test\.ts$|\/testing\/|\/test-kit\//;
const TEST_IMPORT = /from '(@ticketing\/common\/testing|[./]+\/(testing|test-kit)(\/[^']*)?)'/;

describe.each(['common', ...SERVICES])('the production build of %s', (project) => {
  const files = compiledFiles(`${project}/tsconfig.json`);

  it('compiles its sources', () => {
    expect(files).toContain(project === 'common' ? 'common/src/index.ts' : `${project}/src/main.ts`);
  });

  it('compiles no test and no test kit', () => {
    expect(files.filter((file) => TEST_CODE.test(file))).toEqual([]);
  });

  it('imports nothing from a test kit', () => {
    expect(files.filter((file) => TEST_IMPORT.test(readRepoFile(file)))).toEqual([]);
  });
});

describe('the test kit (common/src/testing)', () => {
  it('is built by a project of its own, for the tests and the scripts', () => {
    expect(compiledFiles('common/tsconfig.testing.json')).toContain('common/src/testing/index.ts');
  });

  it('has its packages (the MongoDB download, the contract checker, YAML) as development dependencies of common', () => {
    const manifest = JSON.parse(readRepoFile('common/package.json')) as Record<string, Record<string, string> | undefined>;
    for (const name of ['mongodb-memory-server-core', 'ajv', 'ajv-formats', 'yaml']) {
      expect({ name, runtime: manifest.dependencies?.[name], dev: manifest.devDependencies?.[name] }).toEqual({
        name,
        runtime: undefined,
        dev: expect.any(String),
      });
    }
  });
});
