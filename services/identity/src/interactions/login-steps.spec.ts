import { describe, expect, it } from '@jest/globals';
import { html } from '../pages/html.js';
import {
  initialLoginState,
  loginStateOf,
  nextLoginStep,
  type LoginStep,
  type LoginStepContext,
} from './login-steps.js';

/** A step as a later issue would add one (a second factor that applies once someone is known). */
function step(id: string, applies: (context: LoginStepContext) => boolean): LoginStep {
  return {
    id,
    title: id,
    applies,
    render: () => html``,
    submit: (context) =>
      Promise.resolve({
        kind: 'done',
        state: { ...context.state, completed: [...context.state.completed, id] },
      }),
  };
}

const context = (state = initialLoginState()): LoginStepContext => ({
  request: {} as LoginStepContext['request'],
  uid: 'uid',
  state,
  params: {},
});

describe('login steps', () => {
  const password = step('password', ({ state }) => state.accountId === undefined);
  const secondFactor = step('otp', ({ state }) => state.accountId === 'enrolled');
  const steps = [password, secondFactor];

  it('runs the first step that applies, in order, skipping completed ones', async () => {
    expect((await nextLoginStep(steps, context()))?.id).toBe('password');
    const known = { accountId: 'enrolled', amr: ['pwd'], completed: ['password'] };
    expect((await nextLoginStep(steps, context(known)))?.id).toBe('otp');
    const done = { ...known, amr: ['pwd', 'otp'], completed: ['password', 'otp'] };
    expect(await nextLoginStep(steps, context(done))).toBeUndefined();
    // Someone without a second factor is done after the password.
    const plain = { accountId: 'plain', amr: ['pwd'], completed: ['password'] };
    expect(await nextLoginStep(steps, context(plain))).toBeUndefined();
  });

  it('reads the state kept on an interaction, and nothing else', () => {
    const kept = { accountId: 'a', amr: ['pwd'], completed: ['password'] };
    expect(loginStateOf({ rampartLogin: kept })).toEqual(kept);
    for (const junk of [
      undefined,
      {},
      { rampartLogin: 'x' },
      { rampartLogin: { amr: 'pwd', completed: [] } },
      { rampartLogin: { accountId: 7, amr: [], completed: [] } },
    ]) {
      expect(loginStateOf(junk)).toEqual(initialLoginState());
    }
    expect(loginStateOf({ rampartLogin: { amr: ['pwd', 3], completed: [null] } })).toEqual({
      amr: ['pwd'],
      completed: [],
    });
  });
});
