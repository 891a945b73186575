// Route allowed (SPEC §3 Routes): a call outside the account's registered routes is counted as
// off-scenario (sluice_off_scenario_requests_total and the usage profile) and, with
// `enforce_routes`, refused 403 route_not_allowed. Every call's route goes to the usage profile:
// the matched pattern, or a bounded template of the call.
import { accountOf } from './account-table.ts';
import type { Guard, RequestContext, Verdict } from './guard.ts';
import { fixedRejection } from './rejections.ts';
import { CallTemplates } from './call-templates.ts';

const ROUTE_NOT_ALLOWED = fixedRejection('route_not_allowed');

export function routesGuard(enforce: boolean): Guard {
  return new RoutesGuard(enforce);
}

class RoutesGuard implements Guard {
  readonly name = 'routes';
  private readonly enforce: boolean;
  private readonly templates = new CallTemplates();

  constructor(enforce: boolean) {
    this.enforce = enforce;
  }

  check(ctx: RequestContext): Verdict {
    const account = accountOf(ctx);
    if (account === null) return null;
    const routes = account.routes;
    if (routes !== null) {
      const matched = routes.match(ctx.method, ctx.path);
      if (matched !== null) {
        account.usage.route(matched);
        return null;
      }
      account.countOffScenario();
    }
    account.usage.route(this.templates.of(ctx.method, ctx.path));
    return routes !== null && this.enforce ? ROUTE_NOT_ALLOWED : null;
  }
}
