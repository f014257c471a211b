// connrate: new TCP connections per second, for the datapath benchmark.
//
//   connrate server PORT                 accept and close, forever
//   connrate client IP PORT SECONDS [INFLIGHT]
//
// The client keeps INFLIGHT (default 16) non-blocking connects going at once
// with epoll. A connect counts when the handshake completes; the socket is
// then closed with SO_LINGER 0 (an RST), so neither side keeps TIME_WAIT
// state and the run is not limited by ephemeral ports. It prints one line of
// JSON: {"connects":N,"errors":E,"seconds":S,"rate":N/S}. Each side runs in a
// namespace of the benchmark's, entered by the caller.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int server(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0) {
    perror("connrate server: bind/listen");
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  for (;;) {
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c >= 0) close(c);
    else if (errno != EINTR && errno != ECONNABORTED) {
      perror("connrate server: accept");
      return 1;
    }
  }
}

/* Starts one non-blocking connect and registers it; -1 on an immediate failure. */
static int start(int ep, const struct sockaddr_in *dst) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  if (connect(fd, (const struct sockaddr *)dst, sizeof *dst) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  return 0;
}

static int client(const char *ip, int port, double seconds, int inflight) {
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, ip, &dst.sin_addr) != 1) {
    fprintf(stderr, "connrate client: bad address %s\n", ip);
    return 2;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  long connects = 0, errors = 0;
  int open = 0;
  for (int i = 0; i < inflight; i++) start(ep, &dst) == 0 ? open++ : errors++;
  struct epoll_event evs[256];
  /* The window is at least long enough for a first connection: a SYN lost
     while a loaded machine sets up (retransmitted after 1 s) would otherwise
     leave a short window with none. The rate is over the time it took. */
  double t0 = now(), end = t0 + seconds, last = t0 + seconds + 5;
  while (now() < end || (connects == 0 && now() < last)) {
    int n = epoll_wait(ep, evs, 256, 100);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd, err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      err || (evs[i].events & (EPOLLERR | EPOLLHUP)) ? errors++ : connects++;
      close(fd);
      open--;
      if (start(ep, &dst) == 0) open++;
      else errors++;
    }
    if (open == 0) break;
  }
  double took = now() - t0;
  printf("{\"connects\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"rate\":%.1f}\n", connects, errors, took, connects / took);
  return connects > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "server")) return server(atoi(argv[2]));
  if ((argc == 5 || argc == 6) && !strcmp(argv[1], "client"))
    return client(argv[2], atoi(argv[3]), atof(argv[4]), argc == 6 ? atoi(argv[5]) : 16);
  fprintf(stderr, "usage: connrate server PORT | connrate client IP PORT SECONDS [INFLIGHT]\n");
  return 2;
}
