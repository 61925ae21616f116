/*
 * The ffi HTTP engine's hot loop in C (compiled at start by bun:ffi's TinyCC; ffi-driver.ts).
 *
 * One call: epoll_wait, then for each ready socket whose slot is "armed" (its request is all
 * sent and no byte of the answer has come), recv; when the bytes hold a whole head of the
 * common shape (a status line, headers, a Content-Length body) and the body, record the answer
 * and, on a kept-alive connection with budget left, send the next request at once. A body that
 * goes on in later reads (a server that writes its head and its body apart, as nginx with
 * sendfile and without tcp_nopush does) is followed here too: the slot keeps the parsed head and
 * the bytes still due (part[]), and the answer is recorded when the last of them comes.
 * Everything else is handed to the JavaScript engine as it is (the event, and the bytes read if
 * any), which has the full parser: chunked and close-delimited bodies, split heads, HEAD,
 * 1xx/204/304, the Server header, server names, errors; a hand-over in the middle of a body
 * leaves part[] for the JavaScript parser to take up. The header checks below are the
 * JavaScript parser's (parser.ts) for this shape, so both report the same status, length and
 * keep-alive.
 *
 * No system headers (TinyCC has none of its own here): the few declarations are below. TinyCC
 * does not optimise: byte loops are slow, so lines are found with libc's memchr (vectorised).
 */
typedef unsigned long size_t;
typedef long ssize_t;

struct timespec {
  long tv_sec;
  long tv_nsec;
};
int clock_gettime(int clk, struct timespec *ts);
ssize_t recv(int fd, void *buf, size_t n, int flags);
ssize_t send(int fd, const void *buf, size_t n, int flags);
int epoll_wait(int ep, void *events, int max, int timeout);
int *__errno_location(void);
void *memchr(const void *s, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int strncasecmp(const char *a, const char *b, size_t n);

#define CLOCK_MONOTONIC 1
#define MSG_NOSIGNAL 0x4000
#define EINTR 4
#define EAGAIN 11

/* struct epoll_event: packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
#ifdef __x86_64__
#define EV_WORDS 3
#define EV_DATA 1
#else
#define EV_WORDS 4
#define EV_DATA 2
#endif

/* ctl[]: in */
#define C_BUDGET 0   /* requests this call may start */
#define C_STOP_AT 1  /* no new request at or after this time (ms, performance.now() base) */
#define C_OFFSET 2   /* performance.now() - CLOCK_MONOTONIC ms */
#define C_FLAGS 3    /* F_* */
/* ctl[]: out */
#define C_EVENTS 4   /* what epoll_wait returned */
#define C_SPLIT 5    /* answers recorded here that came in more than one read */
#define C_READ 6     /* bytes read (the JavaScript loop counts what it sends) */
#define C_NOW 7      /* the batch's clock reading */

#define F_KEEPALIVE 1   /* -k */
#define F_WANT_SERVER 2 /* no Server header recorded yet: hand answers that have one over */

/* out[]: records of REC doubles */
#define REC 8
#define K_DONE 1    /* slot, status, body bytes, keep-alive, first byte's time, next started, next sent */
#define K_HANDOFF 2 /* slot, epoll bits, recv result (or NO_RECV), offset in rbuf */
#define NO_RECV (-1e9)

/* armed[]: what the C loop may do with a slot's next event */
#define A_JS 0     /* nothing: the JavaScript engine has the slot */
#define A_ARMED 1  /* the request is all sent, no byte of the answer has come */
#define A_BODY 2   /* the head is read, part[] holds it and the body bytes still due */

/* part[]: PART doubles per slot, for an answer whose body goes on in later reads */
#define PART 8
#define P_STATUS 0
#define P_LENGTH 1
#define P_KA 2
#define P_LEFT 3  /* body bytes still due (> 0) */
#define P_T0 4    /* the first byte's time */
#define P_READ 5  /* bytes of this answer read so far */

/*
 * Per slot, the last head parsed in full (CACHE_STRIDE bytes: 8 ints, then the head): its length,
 * where its Date value lies, and the result. A server sends the same head again and again, only
 * Date moves: an answer whose head is the same bytes outside that value, and whose value holds no
 * line feed, has the same lines, so the same status, length and keep-alive (the Date line starts
 * with 'd', which the walk skips). Two memcmp instead of the walk.
 */
#define CACHE_HEAD 1024
#define CACHE_STRIDE (32 + CACHE_HEAD)
#define M_HEAD_LEN 0 /* 0: nothing cached */
#define M_DATE_OFF 1
#define M_DATE_LEN 2
#define M_STATUS 3
#define M_LENGTH 4
#define M_KA 5

struct answer {
  int status;
  long length;
  int ka;
  int head_len;
  int date_off; /* the Date value, or date_len 0 */
  int date_len;
};

static double now_ms(double offset) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 + offset;
}

/* Case-insensitive: does b[p..) start with the word w of n bytes? */
static int eq_lower(const unsigned char *b, int p, const char *w, int n) {
  return strncasecmp((const char *)b + p, w, n) == 0;
}

/* Does b[p..e) contain the word w (case-insensitive)? The whole value first: the common case. */
static int has_lower(const unsigned char *b, int p, int e, const char *w, int n) {
  if (e - p == n) return eq_lower(b, p, w, n);
  for (int i = p; i + n <= e; i++)
    if (eq_lower(b, i, w, n)) return 1;
  return 0;
}

/* Index of the next line feed in b[p..n), or n. */
static int line_end(const unsigned char *b, int p, int n) {
  const unsigned char *q = memchr(b + p, 10, n - p);
  return q ? (int)(q - b) : n;
}

/*
 * A whole head of the common shape at b[0..n)? Then status, body length, keep-alive and the
 * head's length, and 1 when the body is all here too, 2 when it goes on in a later read; else 0
 * (the JavaScript parser takes the bytes).
 */
static int parse(const unsigned char *b, int n, int want_server, struct answer *a) {
  a->date_len = 0;
  int le = line_end(b, 0, n);
  if (le >= n || le < 12) return 0;
  if (b[0] != 'H' || b[1] != 'T' || b[2] != 'T' || b[3] != 'P' || b[4] != '/' || b[5] != '1' || b[6] != '.' ||
      b[8] != ' ')
    return 0;
  int d0 = b[9] - '0', d1 = b[10] - '0', d2 = b[11] - '0';
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return 0;
  int st = d0 * 100 + d1 * 10 + d2;
  int keep = 0; /* HTTP/1.0 request: persistent only when the answer says keep-alive (parser.ts) */
  long len = -1;
  int p = le + 1;
  for (;;) {
    le = line_end(b, p, n);
    if (le >= n) return 0; /* the head goes on in a later read */
    int ve = le;
    if (ve > p && b[ve - 1] == 13) ve--;
    if (ve == p) break; /* the empty line */
    int first = b[p] | 0x20;
    if (first == 'd' && ve - p > 5 && eq_lower(b, p, "date:", 5)) {
      int v = p + 5;
      while (v < ve && (b[v] == ' ' || b[v] == '\t')) v++;
      a->date_off = v;
      a->date_len = ve - v;
    } else if (first == 'c' || first == 't' || first == 's') {
      const unsigned char *cp = memchr(b + p, ':', ve - p);
      if (cp) {
        int colon = (int)(cp - b);
        int v = colon + 1;
        while (v < ve && (b[v] == ' ' || b[v] == '\t')) v++;
        while (ve > v && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) ve--;
        int nl = colon - p;
        if (nl == 14 && eq_lower(b, p, "content-length", 14)) {
          if (v >= ve || ve - v > 15) return 0;
          len = 0;
          for (int i = v; i < ve; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) return 0;
            len = len * 10 + d;
          }
        } else if (nl == 17 && eq_lower(b, p, "transfer-encoding", 17)) {
          return 0;
        } else if (nl == 10 && eq_lower(b, p, "connection", 10)) {
          if (has_lower(b, v, ve, "close", 5)) keep = 0;
          else if (has_lower(b, v, ve, "keep-alive", 10)) keep = 1;
        } else if (nl == 6 && want_server && eq_lower(b, p, "server", 6)) {
          return 0;
        }
      }
    }
    p = le + 1;
  }
  if (st < 200 || st == 204 || st == 304 || len < 0) return 0;
  a->status = st;
  a->length = len;
  a->ka = keep;
  a->head_len = le + 1;
  return (long)(n - (le + 1)) < len ? 2 : 1;
}

/* The slot's cached head starts b[0..n): the answer is the cached one; 1 or 2 as parse() says. */
static int cached(const unsigned char *c, const unsigned char *b, int n, struct answer *a) {
  const int *m = (const int *)c;
  int hl = m[M_HEAD_LEN];
  if (hl == 0 || n < hl) return 0;
  const unsigned char *h = c + 32;
  int d = m[M_DATE_OFF], dl = m[M_DATE_LEN];
  if (memcmp(b, h, d) != 0 || memcmp(b + d + dl, h + d + dl, hl - d - dl) != 0) return 0;
  if (dl > 0 && memchr(b + d, 10, dl)) return 0;
  a->status = m[M_STATUS];
  a->length = m[M_LENGTH];
  a->ka = m[M_KA];
  a->head_len = hl;
  return (long)(n - hl) < (long)m[M_LENGTH] ? 2 : 1;
}

static void remember(unsigned char *c, const unsigned char *b, const struct answer *a) {
  int *m = (int *)c;
  if (a->head_len > CACHE_HEAD || a->length > 0x7fffffff) {
    m[M_HEAD_LEN] = 0;
    return;
  }
  memcpy(c + 32, b, a->head_len);
  m[M_DATE_OFF] = a->date_len > 0 ? a->date_off : 0;
  m[M_DATE_LEN] = a->date_len;
  m[M_STATUS] = a->status;
  m[M_LENGTH] = (int)a->length;
  m[M_KA] = a->ka;
  m[M_HEAD_LEN] = a->head_len;
}

/* Hand slot i's event over to the JavaScript engine: got is the recv result or NO_RECV. */
static void handoff(double *r, int i, unsigned bits, double got, int roff) {
  r[0] = K_HANDOFF;
  r[1] = i;
  r[2] = bits;
  r[3] = got;
  r[4] = roff;
}

/*
 * The bytes b[0..got) of slot i's answer: 1 when they end it (a filled in), 0 when it goes on
 * (the slot is then A_BODY, its head in part[]), -1 when the JavaScript parser must take them.
 */
static int take(int i, unsigned char *armed, double *part, unsigned char *cache, const unsigned char *b, long got,
                int flags, double now, struct answer *a, double *t0) {
  double *pp = part + (long)i * PART;
  if (armed[i] == A_BODY) {
    if (got <= 0 || got > pp[P_LEFT]) return -1; /* a close, a reset, or bytes beyond the body */
    pp[P_LEFT] -= got;
    pp[P_READ] += got;
    if (pp[P_LEFT] > 0) return 0;
    a->status = (int)pp[P_STATUS];
    a->length = (long)pp[P_LENGTH];
    a->ka = (int)pp[P_KA];
    *t0 = pp[P_T0];
    return 1;
  }
  if (got <= 0) return -1;
  unsigned char *c = cache + (long)i * CACHE_STRIDE;
  int ok = cached(c, b, (int)got, a);
  if (!ok) {
    ok = parse(b, (int)got, flags & F_WANT_SERVER, a);
    if (ok) remember(c, b, a);
  }
  if (!ok) return -1;
  *t0 = now;
  if (ok == 1) return 1;
  pp[P_STATUS] = a->status;
  pp[P_LENGTH] = (double)a->length;
  pp[P_KA] = a->ka;
  pp[P_LEFT] = (double)(a->length - (got - a->head_len));
  pp[P_T0] = now;
  pp[P_READ] = (double)got;
  armed[i] = A_BODY;
  return 0;
}

/*
 * Returns the number of records written to out, or -errno when epoll_wait failed. Stops early
 * when out or rbuf is full: the epoll set is level-triggered, what was not read is reported again.
 */
int uvs_bench_pump(int ep, unsigned *events, int max_events, int timeout, int *fds, unsigned *serials,
                   unsigned char *armed, unsigned char *rbuf, int rbuf_len, const unsigned char *req, int req_len,
                   double *ctl, double *out, int out_max, unsigned char *cache, double *part) {
  int n = epoll_wait(ep, events, max_events, timeout);
  if (n < 0) return -*__errno_location();
  ctl[C_EVENTS] = n;
  double now = now_ms(ctl[C_OFFSET]);
  ctl[C_NOW] = now;
  long budget = (long)ctl[C_BUDGET];
  int flags = (int)ctl[C_FLAGS];
  double read_total = 0, split = 0;
  int recs = 0, roff = 0;
  for (int k = 0; k < n && recs < out_max; k++) {
    unsigned *e = events + k * EV_WORDS;
    unsigned bits = e[0];
    int i = (int)e[EV_DATA];
    if (fds[i] < 0 || serials[i] != e[EV_DATA + 1]) continue; /* an earlier socket's event */
    double *r = out + recs * REC;
    if (armed[i] == A_JS || rbuf_len - roff < 16384) {
      armed[i] = A_JS; /* the JavaScript engine reads it (and takes up part[] if a body is due) */
      handoff(r, i, bits, NO_RECV, 0);
      recs++;
      continue;
    }
    ssize_t got = recv(fds[i], rbuf + roff, rbuf_len - roff, 0);
    if (got < 0) {
      int err = *__errno_location();
      if (err == EAGAIN || err == EINTR) continue;
      got = -err;
    }
    if (got > 0) read_total += got;
    int in_body = armed[i] == A_BODY;
    struct answer a;
    double t0 = now;
    int done = take(i, armed, part, cache, rbuf + roff, got, flags, now, &a, &t0);
    if (done == 0) continue;
    if (done < 0) {
      armed[i] = A_JS; /* part[] stays: the JavaScript parser takes the answer up from there */
      handoff(r, i, bits, (double)got, roff);
      recs++;
      if (got > 0) roff += (int)got;
      continue;
    }
    if (in_body) split++;
    r[0] = K_DONE;
    r[1] = i;
    r[2] = a.status;
    r[3] = (double)a.length;
    r[4] = a.ka;
    r[5] = t0;
    r[6] = 0;
    r[7] = 0;
    recs++;
    armed[i] = A_JS;
    if (!(flags & F_KEEPALIVE) || !a.ka || budget <= 0 || now >= ctl[C_STOP_AT]) continue;
    /* The next request on this connection, at once (as the engine's launch would). */
    ssize_t w = send(fds[i], req, req_len, MSG_NOSIGNAL);
    budget--;
    r[6] = 1;
    r[7] = w < 0 ? -(double)*__errno_location() : (double)w;
    if (w == req_len) armed[i] = A_ARMED;
  }
  ctl[C_READ] = read_total;
  ctl[C_SPLIT] = split;
  return recs;
}

/* CLOCK_MONOTONIC in ms, to line the C clock up with performance.now(). */
double uvs_bench_now(void) { return now_ms(0); }
