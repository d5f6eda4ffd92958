/*
 * The shared free lists of src/task_pool.cpp: chains of free task objects
 * move between threads through a depot of slots (put: CAS 0 -> chain;
 * take: exchange chain -> 0) and, when every slot is full, an overflow
 * stack (push: link to the old head, CAS head old -> chain; take: exchange
 * head -> 0, keep the first chain, put the others back). Each step below is
 * one atomic operation of the code or one plain access to a chain the
 * thread owns, so the interleavings are the executions (on x86-TSO the
 * code's release/acquire pairs add nothing these steps need).
 *
 * The depot starts full (one chain in its slot, two on the stack) and
 * THREADS threads each make OPS moves, a take or a put of a chain it
 * holds, in whatever order the checker picks. Checked in every interleaving:
 *   - a chain a thread takes was in the depot or the stack, never held by
 *     another thread (no chain is handed out twice: the ABA hazard of a
 *     stack popped by CAS is avoided by taking the whole stack at once);
 *   - at the end every chain is exactly once in a thread's hands, in a
 *     slot, or on the stack (none lost, none duplicated).
 * Build with -DPOP_ONE_BY_CAS to pop the stack one chain at a time by CAS
 * (head -> next of head), the classic ABA-prone stack: the checker then
 * finds a chain handed out twice (tests/test_models.cpp checks both).
 */
#define THREADS 2
#define CHAINS 3
#define SLOTS 1
#define OPS 4
#define HELD 255   /* owner value: not held by any thread */

byte slot[SLOTS];          /* 0 or a chain id */
byte head = 0;             /* overflow stack: chain id or 0 */
byte link[CHAINS + 1];     /* next chain on the stack (word 3 of a chain head) */
byte owner[CHAINS + 1];    /* thread holding the chain, or HELD when shared */
byte finished = 0;

inline take_into(c, me) {
  atomic {
    assert(owner[c] == HELD);
    owner[c] = me
  }
}

inline put_chain(c, me) {
  owner[c] = HELD;
  if
  :: atomic { slot[0] == 0 -> slot[0] = c }
  :: else ->
     do
     :: old = head;
        link[c] = old;
        if
        :: atomic { head == old -> head = c }; break
        :: else -> skip
        fi
     od
  fi
}

proctype thread(byte me; byte first; byte count) {
  byte held[CHAINS];
  byte n = 0;
  byte ops = 0;
  byte c, old, next, v;
  /* starting chains */
  do
  :: n < count -> held[n] = first + n; owner[first + n] = me; n++
  :: else -> break
  od;
  do
  :: ops < OPS && n > 0 ->
     ops++;
     n--;
     c = held[n];
     put_chain(c, me)
  :: ops < OPS ->
     ops++;
     /* get_chain(): the slot first */
     atomic { v = slot[0]; slot[0] = 0 };
     if
     :: v != 0 -> take_into(v, me); held[n] = v; n++
     :: else ->
#ifdef POP_ONE_BY_CAS
        do
        :: old = head;
           if
           :: old == 0 -> break
           :: else ->
              next = link[old];
              if
              :: atomic { head == old -> head = next }; take_into(old, me); held[n] = old; n++; break
              :: else -> skip
              fi
           fi
        od
#else
        atomic { v = head; head = 0 };
        if
        :: v != 0 ->
           take_into(v, me);
           held[n] = v;
           n++;
           /* the others back into the depot */
           next = link[v];
           do
           :: next != 0 ->
              c = next;
              next = link[c];
              /* this thread owns them for the moment */
              take_into(c, me);
              put_chain(c, me)
           :: else -> break
           od
        :: else -> skip
        fi
#endif
     fi
  :: else -> break
  od;
  /* what it still holds stays held: count it at the end */
  atomic { finished++ }
}

init {
  byte c, k, n, seen;
  atomic {
    c = 1;
    do :: c <= CHAINS -> owner[c] = HELD; c++ :: else -> break od;
    /* the depot starts full: chain 3 in the slot, 1 -> 2 on the stack */
    slot[0] = 3;
    head = 1;
    link[1] = 2;
    link[2] = 0;
    run thread(0, 1, 0);
    run thread(1, 1, 0)
  }
  (finished == THREADS);
  /* every chain exactly once: held by a thread, or in a slot, or on the stack */
  c = 1;
  do
  :: c <= CHAINS ->
     seen = (owner[c] != HELD);
     k = 0;
     do :: k < SLOTS -> seen = seen + (slot[k] == c); k++ :: else -> break od;
     k = head;
     n = 0;
     do
     :: k != 0 -> seen = seen + (k == c); k = link[k]; n++; assert(n <= CHAINS)  /* no cycle */
     :: else -> break
     od;
     assert(seen == 1);
     c++
  :: else -> break
  od
}
