/* The network services (net/services.c): HTTP status page on 80, TCP and UDP echo on 7, the
 * iperf2 server on 5001. */
#ifndef VIREO_NET_SERVICES_H
#define VIREO_NET_SERVICES_H

/* Bring the stack up (net_stack_init) and start listening, once. */
void net_services_start(void);

#endif
