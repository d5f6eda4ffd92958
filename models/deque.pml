/*
 * The worker-local Chase-Lev deque of src/deque.hpp, on x86-TSO: every
 * store of the owner goes through a FIFO store buffer that drains to
 * memory at any moment; a seq_cst fence, and any locked instruction (the
 * CAS), waits until the buffer is empty. The owner reads its own latest
 * values (store forwarding: the shadows below). Thieves store only with
 * their CAS (locked), so they buffer nothing. This is the one reordering
 * x86 allows (a store passing a later load) and the one the fences in
 * pop() and steal() exist for; other machines are weaker, which the
 * acquire/release orderings in deque.hpp cover (Le et al., PPoPP 2013).
 *
 * The owner pushes N elements with up to POPS pops in between, wherever the
 * checker puts them, then pops until the deque is empty; THIEVES thieves
 * each try STEALS steals. Checked, in every interleaving:
 *   - no element is handed out twice (assert at each hand-out);
 *   - at the end every pushed element was handed out exactly once;
 *   - no read of a slot that the owner has not yet published.
 * Build with -DNO_POP_FENCE to drop the fence of pop(): the checker then
 * finds the double hand-out (tests/test_models.cpp checks both).
 * Growth is not modelled: CAP is larger than the elements pushed.
 */
#define N 3        /* elements pushed, ids 1..N */
#define CAP 4      /* buffer slots, a power of two above N */
#define THIEVES 2
#define STEALS 2
#define POPS 2     /* pops the owner may make between its pushes */

byte buf[CAP];     /* memory */
short top = 0;
short bottom = 0;
byte taken[N + 1];
byte handed = 0;
byte finished = 0;

/* The owner's store buffer: (address, value); address CAP is bottom. */
chan sb = [4] of { byte, short };

/* Drains the owner's store buffer, one store at a time, whenever it likes. */
active proctype memory() {
  byte a; short v;
end:
  do
  :: atomic { sb ? a, v ->
       if
       :: a == CAP -> bottom = v
       :: else -> buf[a] = v
       fi }
  od
}

inline hand_out(x) {
  atomic {
    assert(x >= 1 && x <= N);
    assert(taken[x] == 0);
    taken[x]++;
    handed++
  }
}

inline fence() { (len(sb) == 0) }

/* pop(); sets `none` when it found nothing (or lost the last element) */
inline pop(none) {
  b = my_bottom - 1;
  my_bottom = b;
  sb ! CAP, b;
#ifndef NO_POP_FENCE
  fence();
#endif
  t = top;
  if
  :: t > b ->
     none = true;
     my_bottom = b + 1;
     sb ! CAP, b + 1
  :: t <= b ->
     x = my_buf[b % CAP];
     if
     :: t == b ->
        /* the last one: race the thieves (a locked CAS drains first) */
        fence();
        atomic {
          if
          :: top == t -> top = t + 1; hand_out(x); none = false
          :: else -> none = true
          fi
        }
        my_bottom = b + 1;
        sb ! CAP, b + 1
     :: t < b -> hand_out(x); none = false
     fi
  fi
}

proctype owner() {
  short b, t;
  short my_bottom = 0;     /* the owner's own view of bottom */
  byte my_buf[CAP];        /* and of the slots it wrote */
  byte x;
  byte next = 1;
  byte pops = 0;
  bool none;

  /* pushes, with up to POPS pops anywhere in between */
  do
  :: next <= N ->
     /* push(next): buf[b] = x; bottom = b + 1 (both buffered, in order) */
     b = my_bottom;
     t = top;
     assert(b - t < CAP);
     my_buf[b % CAP] = next;
     sb ! (b % CAP), next;
     my_bottom = b + 1;
     sb ! CAP, b + 1;
     next++
  :: next <= N && pops < POPS -> pops++; pop(none)
  :: next > N -> break
  od;
  /* then pops until none */
  do
  :: pop(none); if :: none -> break :: else -> skip fi
  od;
  fence();
  atomic { finished++ }
}

proctype thief() {
  short t, b;
  byte x;
  byte tries = 0;
  do
  :: tries < STEALS ->
     tries++;
     t = top;
     /* fence: a thief has no buffered store on TSO */
     b = bottom;
     if
     :: t < b ->
        x = buf[t % CAP];
        atomic {
          if
          :: top == t -> top = t + 1; hand_out(x)
          :: else -> skip
          fi
        }
     :: else -> skip
     fi
  :: else -> break
  od;
  atomic { finished++ }
}

init {
  byte i;
  atomic {
    run owner();
    i = 0;
    do
    :: i < THIEVES -> run thief(); i++
    :: else -> break
    od
  }
  (finished == THIEVES + 1);
  /* everything handed out exactly once */
  assert(handed == N);
  i = 1;
  do
  :: i <= N -> assert(taken[i] == 1); i++
  :: else -> break
  od
}
