// ESLint rule `rampart/route-access`: every route of a Nest controller states who may call it.
//
// The platform's AccessGuard refuses any route without an access decision (deny by default), so a
// forgotten decorator fails closed; but a route that can never be called is a bug as well, and a
// reviewer should see the decision where the route is declared. A route passes when the method or
// its controller carries one of the access decorators of `@rampart/platform`: `@Public()`,
// `@AllowWorkloads(...)`, `@AllowAccessTokens(...)`.

const ROUTE_DECORATORS = new Set([
  'Get',
  'Post',
  'Put',
  'Patch',
  'Delete',
  'All',
  'Head',
  'Options',
  'Search',
]);
const ACCESS_DECORATORS = new Set(['Public', 'AllowWorkloads', 'AllowAccessTokens']);

/** The name a decorator is called by: `@Get()` and `@Get` are both `Get`. */
function decoratorName(decorator) {
  const expression = decorator.expression;
  const callee = expression.type === 'CallExpression' ? expression.callee : expression;
  if (callee.type === 'Identifier') return callee.name;
  if (callee.type === 'MemberExpression' && callee.property.type === 'Identifier') {
    return callee.property.name;
  }
  return undefined;
}

const names = (node) => (node.decorators ?? []).map(decoratorName).filter(Boolean);

export const routeAccessRule = {
  meta: {
    type: 'problem',
    docs: { description: 'every controller route has @Public() or an access decorator' },
    messages: {
      missing:
        'Route "{{route}}" has no access decision: add @Public(), @AllowWorkloads(...) or ' +
        '@AllowAccessTokens(...) to it or to its controller (the guard refuses it otherwise).',
    },
    schema: [],
  },
  create(context) {
    function check(classNode) {
      const classDecorators = names(classNode);
      if (!classDecorators.includes('Controller')) return;
      if (classDecorators.some((name) => ACCESS_DECORATORS.has(name))) return;
      for (const member of classNode.body.body) {
        if (member.type !== 'MethodDefinition') continue;
        const decorators = names(member);
        if (!decorators.some((name) => ROUTE_DECORATORS.has(name))) continue;
        if (decorators.some((name) => ACCESS_DECORATORS.has(name))) continue;
        const route =
          member.key.type === 'Identifier'
            ? member.key.name
            : context.sourceCode.getText(member.key);
        context.report({ node: member.key, messageId: 'missing', data: { route } });
      }
    }
    return { ClassDeclaration: check, ClassExpression: check };
  },
};

export const rampartPlugin = { rules: { 'route-access': routeAccessRule } };
