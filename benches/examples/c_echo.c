/*
 * The echo server of examples/echo written in C on epoll, for the side-by-side
 * footprint in docs/FOOTPRINT.md: `c_echo [ADDR]`, default 127.0.0.1:7878; built by
 * scripts/footprint.py (`musl-gcc -O2 -static -s`). Never part of statio.
 *
 * The classic shape: level-triggered epoll, every connection read into one shared
 * buffer on the stack and written back at once; only the tail of a partial write is
 * kept, in a malloc'd copy, while the connection waits for writability (and is not
 * read). A connection that echoed costs the kernel's socket and nothing here.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536
#define EVENTS 256
#define SCRATCH 4096

/* The unsent tail of a partial write, per descriptor; NULL for none. */
struct pending {
    size_t len, sent;
    char bytes[];
};
static struct pending *pending[MAX_FDS];

static int ep;

static void watch(int op, int fd, unsigned events) {
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(ep, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL) {
        perror("epoll_ctl");
        exit(1);
    }
}

static void close_conn(int fd) {
    free(pending[fd]);
    pending[fd] = NULL;
    close(fd); /* leaves the epoll set with its last descriptor */
}

/* Sends what `p` holds; returns 1 when all is sent, 0 when the socket is full, -1 on error. */
static int flush(int fd, struct pending *p) {
    while (p->sent < p->len) {
        ssize_t n = send(fd, p->bytes + p->sent, p->len - p->sent, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        p->sent += (size_t)n;
    }
    return 1;
}

static void readable(int fd) {
    char scratch[SCRATCH];
    ssize_t n = read(fd, scratch, sizeof scratch);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        close_conn(fd);
        return;
    }
    if (n < 0)
        return;
    ssize_t sent = send(fd, scratch, (size_t)n, MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN) {
        close_conn(fd);
        return;
    }
    if (sent < 0)
        sent = 0;
    if (sent == n)
        return;
    /* Partial: keep the rest, wait for writability, read no more meanwhile. */
    struct pending *p = malloc(sizeof *p + (size_t)(n - sent));
    if (!p) {
        close_conn(fd);
        return;
    }
    p->len = (size_t)(n - sent);
    p->sent = 0;
    memcpy(p->bytes, scratch + sent, p->len);
    pending[fd] = p;
    watch(EPOLL_CTL_MOD, fd, EPOLLOUT);
}

static void writable(int fd) {
    struct pending *p = pending[fd];
    int done = p ? flush(fd, p) : 1;
    if (done < 0) {
        close_conn(fd);
    } else if (done) {
        free(p);
        pending[fd] = NULL;
        watch(EPOLL_CTL_MOD, fd, EPOLLIN);
    }
}

int main(int argc, char **argv) {
    const char *arg = argc > 1 ? argv[1] : "127.0.0.1:7878";
    char host[64];
    const char *colon = strrchr(arg, ':');
    if (!colon || (size_t)(colon - arg) >= sizeof host) {
        fprintf(stderr, "c_echo: expected an address such as 127.0.0.1:7878\n");
        return 1;
    }
    memcpy(host, arg, (size_t)(colon - arg));
    host[colon - arg] = 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "c_echo: bad address %s\n", arg);
        return 1;
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (listener < 0 || setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1024) < 0) {
        perror("c_echo: listen");
        return 1;
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    watch(EPOLL_CTL_ADD, listener, EPOLLIN);
    printf("c_echo: listening on %s\n", arg);
    fflush(stdout);

    struct epoll_event events[EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, EVENTS, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int conn;
                while ((conn = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    if (conn >= MAX_FDS) {
                        close(conn);
                        continue;
                    }
                    watch(EPOLL_CTL_ADD, conn, EPOLLIN);
                }
            } else if (events[i].events & EPOLLOUT) {
                writable(fd);
            } else {
                readable(fd);
            }
        }
    }
}
