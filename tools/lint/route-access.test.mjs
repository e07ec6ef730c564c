// Tests of `rampart/route-access` with ESLint's RuleTester (run by `npm run lint:workspace`; it
// throws on the first failing case).
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { routeAccessRule } from './route-access.mjs';

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });

tester.run('route-access', routeAccessRule, {
  valid: [
    `@Controller('a') class A { @Public() @Get() health() {} }`,
    `@Controller('a') @AllowWorkloads('identity') class A { @Post() create() {} @Get(':id') read() {} }`,
    `@Controller('a') class A { @AllowAccessTokens('audit:read') @Get() list() {} helper() {} }`,
    // Not a route, not a controller: nothing to decide.
    `@Controller('a') class A { private helper() {} }`,
    `class NotAController { @Get() route() {} }`,
  ],
  invalid: [
    {
      code: `@Controller('a') class A { @Public() @Get() ok() {} @Post() forgotten() {} }`,
      errors: [{ messageId: 'missing', data: { route: 'forgotten' } }],
    },
    {
      // A decorator that only looks like access (a filter) does not count.
      code: `@Controller('a') @UseFilters(F) class A { @Delete(':id') remove() {} }`,
      errors: [{ messageId: 'missing', data: { route: 'remove' } }],
    },
    {
      code: `export default @Controller() class { @Get() @HttpCode(200) read() {} }`,
      errors: [{ messageId: 'missing', data: { route: 'read' } }],
    },
  ],
});
process.stdout.write('rampart/route-access: all cases pass\n');
