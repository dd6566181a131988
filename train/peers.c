/* The other ranks' processes, to name one that died (see train.h): each
 * rank's host (a hash of its name) and pid, gathered at start; a signal
 * handler then asks the kernel which ranks of this host still exist. */
#include "backends/runtime/comm.h"
#include "train/train.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

enum { MAX_PEERS = 4096 };
static int64_t peers[2 * MAX_PEERS];   /* host hash, pid of each rank */
static int n_peers = -1, my_rank;

int gc_train_peers_init(const gc_comm *c, gc_diag *d) {
  char host[256] = "";
  if (c->size <= 1 || c->size > MAX_PEERS) return 0;
  gethostname(host, sizeof host - 1);
  int64_t mine[2] = {(int64_t)XXH3_64bits(host, strlen(host)), (int64_t)getpid()};
  gc_diag e = {0};
  if (gc_comm_all_gather(c, mine, peers, 2, GC_I64, &e))
    return gc_diag_set(d, "rank %d: cannot reach the other ranks: %s", c->rank, e.msg);
  n_peers = c->size, my_rank = c->rank;
  return 0;
}

/* Async-signal-safe: the first rank of this host whose process is gone,
 * else -1.  *lowest: whether this rank is the lowest one left alive here. */
static int dead_peer(bool *lowest) {
  int dead = -1;
  *lowest = true;
  for (int r = 0; r < n_peers; r++) {
    if (r == my_rank || peers[2 * r] != peers[2 * my_rank]) continue;
    bool gone = kill((pid_t)peers[2 * r + 1], 0) != 0 && errno == ESRCH;
    if (gone && dead < 0) dead = r;
    if (!gone && r < my_rank) *lowest = false;
  }
  return dead;
}

/* Async-signal-safe decimal of v >= 0 at p; its end. */
static char *put_int(char *p, long v) {
  char tmp[24];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10), v /= 10; while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

static char *put_str(char *p, const char *s) {
  while (*s) *p++ = *s++;
  return p;
}

bool gc_train_peers_report_dead(void) {
  bool lowest;
  int dead = dead_peer(&lowest);
  if (dead < 0) return false;
  if (lowest) {   /* one line from the job, not one per survivor */
    char line[256], *p = put_str(line, "gc-train: error: rank ");
    p = put_int(p, dead);
    p = put_str(p, " (pid ");
    p = put_int(p, (long)peers[2 * dead + 1]);
    p = put_str(p, ") died; stopped, the last checkpoint stands, --resume continues it\n");
    if (write(2, line, (size_t)(p - line)) < 0) return true;
  }
  return true;
}
