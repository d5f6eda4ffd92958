/*
 * The sleep/wake protocol of src/sleep.hpp and src/worker.cpp (read-only
 * here: this is its model), with the submit side of src/scheduler.cpp,
 * including its rule that a submitter whose raise of the queue count found
 * it already positive skips the wake-up check (docs/architecture.md,
 * "Sleep and wake"). The steps are the code's, seq_cst as there: the
 * count's raise and the sleepers' raise are locked read-modify-writes, the
 * SLEEPING store is seq_cst, and each side fences before it reads the
 * other's word, so the interleavings of these steps are the executions.
 *
 * WORKERS workers take tasks (then lower the count) while there are any,
 * poll while the count is positive, and otherwise park: sleepers++, state = SLEEPING, fence, re-check the count, then
 * cancel (CAS SLEEPING -> AWAKE, sleepers-- if won) or block until the
 * state leaves SLEEPING. SUBMITTERS submitters each post TASKS tasks:
 * old = count++, push, then, if old == 0, fence and wake one sleeper (CAS
 * SLEEPING -> NOTIFIED, sleepers--). Checked:
 *   - no lost wakeup: whenever nothing can move any more (every worker
 *     parked, every submitter done), no task is left (`timeout` below);
 *   - sleepers never drifts: it never goes negative, and when nothing can
 *     move it is the number of SLEEPING states.
 * A submitter may also back out after its raise (shutdown, or a queue that
 * cannot grow): it lowers the count and, if it raised it from zero, still
 * makes the check, since a later submitter may have skipped its own on the
 * strength of that raise. Builds that must fail, to show the model can:
 * -DNEVER_CHECK (no wake-up at all) and -DBACKOUT_SKIPS_CHECK (the
 * backing-out submitter skips the check); tests/test_models.cpp runs all.
 */
#define WORKERS 2
#define SUBMITTERS 2
#define TASKS 2

#define AWAKE 0
#define SLEEPING 1
#define NOTIFIED 2

byte count = 0;     /* the queue count: raised before a push, lowered after a take */
byte elements = 0;  /* what is really in the queue */
short sleepers = 0;
byte state[WORKERS];
byte done_submitters = 0;
byte taken = 0;
byte posted = 0;

inline wake_one() {
  /* the scheduler tries the near worker, the target, then the steal order:
     any SLEEPING one, picked by the checker */
  if
  :: atomic { state[0] == SLEEPING -> state[0] = NOTIFIED }; sleepers--; assert(sleepers >= 0)
  :: atomic { state[1] == SLEEPING -> state[1] = NOTIFIED }; sleepers--; assert(sleepers >= 0)
  :: atomic { state[0] != SLEEPING && state[1] != SLEEPING } -> skip
  fi
}

/* the wake-up check after a push (or after backing out of one) */
inline check(old) {
  if
  :: old == 0 -> /* fence */ if :: sleepers > 0 -> wake_one() :: else -> skip fi
  :: else -> skip
  fi
}

proctype submitter() {
  byte i = 0;
  byte old;
  do
  :: i < TASKS ->
     i++;
     atomic { old = count; count++ };
     if
     :: atomic { elements++; posted++ };
#ifdef NEVER_CHECK
        skip
#else
        check(old)
#endif
     :: /* backs out: the pool began to shut down, or the queue could not
           grow; the count comes down again and no task was queued */
        count--;
#ifndef BACKOUT_SKIPS_CHECK
        check(old)
#endif
     fi
  :: else -> break
  od;
  atomic { done_submitters++ }
}

proctype worker(byte me) {
end:
  do
  :: atomic { elements > 0 -> elements--; taken++ };
     count--
  :: count == 0 ->
     /* prepare(): sleepers++, state = SLEEPING, fence */
     sleepers++;
     state[me] = SLEEPING;
     /* the re-check */
     if
     :: count > 0 ->
        /* cancel(): CAS SLEEPING -> AWAKE; a waker that won already
           decremented sleepers */
        if
        :: atomic { state[me] == SLEEPING -> state[me] = AWAKE }; sleepers--; assert(sleepers >= 0)
        :: atomic { state[me] == NOTIFIED -> state[me] = AWAKE }
        fi
     :: count == 0 ->
        /* sleep(): block while SLEEPING, then AWAKE */
end_parked:
        (state[me] != SLEEPING);
        state[me] = AWAKE
     fi
  od
}

active proctype monitor() {
  /* nothing can move any more: every submitter is done, every worker
     parked (a monitor that could always move would hide this state) */
  timeout ->
  assert(done_submitters == SUBMITTERS);
  assert(count == 0);
  assert(taken == posted);
  assert(sleepers == (state[0] == SLEEPING) + (state[1] == SLEEPING))
}

init {
  atomic {
    run worker(0);
    run worker(1);
    run submitter();
    run submitter()
  }
}
