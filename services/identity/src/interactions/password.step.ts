import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { AccountsService } from '../accounts/accounts.service.js';
import { html } from '../pages/html.js';
import { errorSummary, field, type PageView } from '../pages/layout.js';
import { loginContext } from '../pages/request-context.js';
import type { LoginStep, LoginStepContext, LoginStepOutcome } from './login-steps.js';

const passwordForm = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(4096),
});

/** One message for every failure: it must not tell whether the account exists or its state. */
const SIGN_IN_REFUSED = 'The username or password is not right.';

/** The first step: username and password, checked by AccountsService (events, decoy, rehash). */
@Injectable()
export class PasswordStep implements LoginStep {
  readonly id = 'password';
  readonly title = 'Sign in';

  constructor(private readonly accounts: AccountsService) {}

  applies(context: LoginStepContext): boolean {
    return context.state.accountId === undefined;
  }

  render(
    context: LoginStepContext,
    view: PageView,
    retry?: Extract<LoginStepOutcome, { kind: 'retry' }>,
  ) {
    const hint = context.params['login_hint'];
    const username = retry?.values?.['username'] ?? (typeof hint === 'string' ? hint : '');
    const errors = retry?.errors ?? {};
    return html`${retry ? errorSummary(retry.message, errors) : ''}
      <form method="post" action="/interaction/${context.uid}/login" novalidate>
        ${view.csrf}
        <input type="hidden" name="step" value="${this.id}" />
        ${field({ name: 'username', label: 'Username', autocomplete: 'username', value: username, required: true, maxLength: 64, errors })}
        ${field({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', required: true, errors })}
        <div class="actions"><button type="submit">Sign in</button></div>
      </form>
      <form method="post" action="/interaction/${context.uid}/abort" class="inline">
        ${view.csrf}
        <div class="actions"><button type="submit" class="secondary">Cancel</button></div>
      </form>
      <p>No account yet? <a href="/account/register">Create one</a>.</p>`;
  }

  async submit(
    context: LoginStepContext,
    form: Record<string, unknown>,
  ): Promise<LoginStepOutcome> {
    const parsed = passwordForm.safeParse(form);
    const username = typeof form['username'] === 'string' ? form['username'].slice(0, 256) : '';
    if (!parsed.success) {
      return {
        kind: 'retry',
        status: 422,
        message: 'Enter your username and password.',
        errors: Object.fromEntries(
          parsed.error.issues.map((issue) => [
            String(issue.path[0]),
            issue.path[0] === 'username' ? 'Enter your username.' : 'Enter your password.',
          ]),
        ),
        values: { username },
      };
    }
    const result = await this.accounts.authenticate(
      parsed.data.username,
      parsed.data.password,
      loginContext(context.request),
    );
    if (!result.ok) {
      return { kind: 'retry', status: 400, message: SIGN_IN_REFUSED, values: { username } };
    }
    return {
      kind: 'done',
      state: {
        accountId: result.account.id,
        amr: [...context.state.amr, 'pwd'],
        completed: [...context.state.completed, this.id],
      },
    };
  }
}
