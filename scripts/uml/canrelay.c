/*
 * canrelay: the simplest user-space CAN forwarder. Every frame read on SRC
 * (classic or CAN FD) is written to DST, unchanged; nothing else.
 *
 *   gcc -O2 -o canrelay scripts/uml/canrelay.c && ./canrelay vcan0 vcan1
 *
 * It is the reference point between the kernel's can-gw (no user space at
 * all) and bulkhead's daemon (user space plus parsing, rules, SecOC): what
 * merely crossing into user space and back costs, measured with
 * scripts/uml/canlat.py in the same run (see scripts/uml/measure-cangw.sh).
 * Prints "ready" once both sockets are bound; runs until killed; on SIGTERM
 * or SIGINT prints how many frames it forwarded and dropped.
 */
#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
    (void)sig;
    stop = 1;
}

/* A raw CAN socket bound to ifname that accepts CAN FD frames; -1 on error. */
static int open_can(const char *ifname) {
    int sock = socket(PF_CAN, SOCK_RAW, CAN_RAW);
    if (sock < 0) {
        fprintf(stderr, "canrelay: socket(PF_CAN): %s\n", strerror(errno));
        return -1;
    }
    int on = 1;
    if (setsockopt(sock, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &on, sizeof on) < 0) {
        fprintf(stderr, "canrelay: CAN_RAW_FD_FRAMES on %s: %s\n", ifname, strerror(errno));
        close(sock);
        return -1;
    }
    struct sockaddr_can addr;
    memset(&addr, 0, sizeof addr);
    addr.can_family = AF_CAN;
    addr.can_ifindex = (int)if_nametoindex(ifname);
    if (addr.can_ifindex == 0) {
        fprintf(stderr, "canrelay: no interface %s\n", ifname);
        close(sock);
        return -1;
    }
    if (bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "canrelay: bind to %s: %s\n", ifname, strerror(errno));
        close(sock);
        return -1;
    }
    return sock;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: canrelay SRC DST   (forwards every frame read on SRC to DST)\n");
        return 2;
    }
    int src = open_can(argv[1]);
    int dst = open_can(argv[2]);
    if (src < 0 || dst < 0)
        return 1;
    /* The sending socket receives nothing. */
    if (setsockopt(dst, SOL_CAN_RAW, CAN_RAW_FILTER, NULL, 0) < 0) {
        fprintf(stderr, "canrelay: empty filter on %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal; /* no SA_RESTART: read() returns EINTR */
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    printf("ready\n");
    fflush(stdout);

    struct canfd_frame frame;
    unsigned long forwarded = 0, dropped = 0;
    while (!stop) {
        ssize_t got = read(src, &frame, sizeof frame);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "canrelay: read from %s: %s\n", argv[1], strerror(errno));
            return 1;
        }
        if (got != CAN_MTU && got != CANFD_MTU)
            continue; /* not a frame this relay knows */
        if (write(dst, &frame, (size_t)got) != got) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
                dropped++;
                continue;
            }
            fprintf(stderr, "canrelay: write to %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        forwarded++;
    }
    fprintf(stderr, "canrelay: %lu frames forwarded, %lu dropped\n", forwarded, dropped);
    return 0;
}
