import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TURN_BUDGET_MS, TurnBudget } from '../../src/api/server.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

test('TurnBudget: a burst of work is spread over event-loop turns, and a timer gets to run in between', async () => {
  const budget = new TurnBudget();
  const turns = new Set<number>();
  let turn = 0;
  const ticker = setInterval(() => turn++, 0);
  let timerRanDuringBurst = false;
  const timer = setTimeout(() => {
    timerRanDuringBurst = true;
  }, 1);
  try {
    // 40 jobs of 1 ms each, all started in one turn: without the budget they would take one 40 ms turn.
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        if (budget.over()) await budget.later();
        turns.add(turn);
        busy(1);
      }),
    );
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
  }
  assert.ok(turns.size >= 40 / (TURN_BUDGET_MS + 2), `the jobs ran in ${turns.size} turns`);
  assert.ok(timerRanDuringBurst, 'a 1 ms timer ran before the burst ended');
});

test('TurnBudget: the first check of a turn never defers, and later() lands in a turn with budget left', async () => {
  const budget = new TurnBudget();
  assert.equal(budget.over(), false);
  busy(TURN_BUDGET_MS + 1);
  assert.equal(budget.over(), true);
  await budget.later();
  assert.equal(budget.over(), false, 'a fresh turn has budget');
});
