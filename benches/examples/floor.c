/*
 * The floor of the server benchmarks: the least a server on epoll can do per request,
 * so that docs/BENCHMARKS.md can say how far any server is from it and whether a
 * target is reachable on the machine at all. Never part of statio, never in CI.
 *
 *     floor_http ADDR   prints `floor: listening on ADDR`, answers every request
 *                       head (each CRLF CRLF) with the bytes examples/http sends
 *                       for `GET /` (a Date of the same length, fixed)
 *     floor_resp ADDR   (built with -DRESP) answers every RESP command of
 *                       redis-benchmark by its name's first letter: SET +OK, GET a
 *                       3-byte bulk, INCR :1, PING +PONG, CONFIG an empty array,
 *                       anything else +OK
 *
 * Built by benches/scripts (`--floor`: gcc -O2). It understands only the benchmarks' own
 * traffic: no parsing, no limits, no timers, no bodies; that is the point. The shape
 * is the one statio's examples have: edge-triggered epoll, `recv` and `send` as statio
 * and mio call them, a read shorter than the buffer ends the reads (a stream socket
 * is drained), the replies to all the requests of one read in one write. A reply
 * that does not fit into the socket's send buffer closes the connection (never seen
 * with these clients).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef RESP
#define RESP 0
#endif

#define MAX_FDS 65536
#define EVENTS 256
#define IN_BYTES 65536
#define OUT_BYTES (1 << 20)

static const char HTTP_REPLY[] = "HTTP/1.1 200 OK\r\n"
                                 "Date: Thu, 03 Dec 2026 12:00:00 GMT\r\n"
                                 "Content-Length: 14\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "\r\n"
                                 "Hello, world!\n";

/* Where each connection is in the byte stream, kept across reads. */
struct scan {
    unsigned matched;    /* http: bytes of CRLF CRLF matched */
    unsigned line_start; /* resp: the next byte starts a line */
    unsigned in_header;  /* resp: inside an array header, `*N` */
    unsigned left;       /* resp: lines of the array still to come */
    unsigned lines;      /* resp: lines of the array so far */
};
static struct scan scans[MAX_FDS];
static char in[IN_BYTES], out[OUT_BYTES];

static size_t append(size_t at, const char *bytes, size_t len) {
    if (at + len > OUT_BYTES) return at; /* more requests in one read than fit: dropped */
    memcpy(out + at, bytes, len);
    return at + len;
}

#define APPEND(at, lit) append(at, lit, sizeof(lit) - 1)

/* The replies to the requests that `bytes` completes or starts, appended at `at`. */
static size_t answer(struct scan *s, const char *bytes, size_t len, size_t at) {
    static const char CRLFCRLF[] = "\r\n\r\n";
    for (size_t i = 0; i < len; i++) {
        char c = bytes[i];
        if (!RESP) {
            s->matched = c == CRLFCRLF[s->matched] ? s->matched + 1 : (c == '\r');
            if (s->matched == 4) {
                s->matched = 0;
                at = APPEND(at, HTTP_REPLY);
            }
            continue;
        }
        /* The reply goes out at a command's name: an array's third line, or the
         * first byte of an inline command (a line outside any array). */
        int name = s->line_start && (s->left == 0 ? c != '*' : s->lines == 1);
        if (name) {
            switch (c | 0x20) {
            case 'g': at = APPEND(at, "$3\r\nxxx\r\n"); break;
            case 'i': at = APPEND(at, ":1\r\n"); break;
            case 'p': at = APPEND(at, "+PONG\r\n"); break;
            case 'c': at = APPEND(at, "*0\r\n"); break;
            default: at = APPEND(at, "+OK\r\n"); break;
            }
        } else if (s->line_start && s->left == 0) { /* c == '*' */
            s->in_header = 1;
            s->left = 0;
        } else if (s->in_header && c >= '0' && c <= '9') {
            s->left = s->left * 10 + (unsigned)(c - '0');
        }
        s->line_start = c == '\n';
        if (c != '\n') continue;
        if (s->in_header) { /* `*N` done: N bulk strings, two lines each */
            s->in_header = 0;
            s->left *= 2;
            s->lines = 0;
        } else if (s->left > 0) {
            s->left--;
            s->lines++;
        }
    }
    return at;
}

static void serve(int fd) {
    size_t at = 0;
    for (;;) {
        ssize_t n = recv(fd, in, IN_BYTES, 0);
        if (n > 0) {
            at = answer(&scans[fd], in, (size_t)n, at);
            if ((size_t)n < IN_BYTES) break; /* short read: drained */
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        close(fd); /* EOF or error */
        return;
    }
    if (at > 0 && send(fd, out, at, MSG_NOSIGNAL) != (ssize_t)at) close(fd);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s IP:PORT\n", argv[0]);
        return 2;
    }
    char host[64];
    const char *colon = strrchr(argv[1], ':');
    if (!colon || (size_t)(colon - argv[1]) >= sizeof host) {
        fprintf(stderr, "floor: bad address %s\n", argv[1]);
        return 2;
    }
    memcpy(host, argv[1], (size_t)(colon - argv[1]));
    host[colon - argv[1]] = 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "floor: bad address %s\n", argv[1]);
        return 2;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t alen = sizeof addr;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 1024) < 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
        perror("floor: listen");
        return 1;
    }
    inet_ntop(AF_INET, &addr.sin_addr, host, sizeof host);
    printf("floor: listening on %s:%d\n", host, ntohs(addr.sin_port));
    fflush(stdout);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event events[EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, EVENTS, -1);
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd != lfd) {
                serve(fd);
                continue;
            }
            int c;
            while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                if (c >= MAX_FDS) {
                    close(c);
                    continue;
                }
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                scans[c] = (struct scan){.line_start = 1};
                struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
            }
        }
    }
}
