package dev.gatehouse.gateway.server;

import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.chat.ApiException;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * A graceful stop's bookkeeping: whether it has begun (then /health/ready answers 503, so load
 * balancers stop sending, and a new /v1 request gets 503 {@code server_shutting_down}, whichever
 * backend would have served it), and how many requests are still being answered. An engine finishes a
 * generation before its handler has written the last of it (with a slow client the tail waits in
 * the gateway's queues), so the server waits for the handlers, not only the engines.
 */
final class Drain implements Filter {
    private boolean begun; // guarded by this
    private int inFlight; // guarded by this

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        boolean refuse = req.prologue().method() == Method.POST && req.path().path().startsWith("/v1/");
        synchronized (this) {
            refuse &= begun;
            if (!refuse) {
                inFlight++;
            }
        }
        if (refuse) {
            OpenAiApi.send(res, ApiException.shuttingDown("The server is shutting down; send the request to another instance."));
            return;
        }
        try {
            chain.proceed(); // returns once the handler has sent the whole response, streamed or not
        } finally {
            synchronized (this) {
                inFlight--;
                notifyAll();
            }
        }
    }

    /** Starts draining; false if it had begun already. */
    synchronized boolean begin() {
        boolean first = !begun;
        begun = true;
        return first;
    }

    synchronized boolean begun() {
        return begun;
    }

    /** Requests being answered now, a /metrics scrape that asks included (gatehouse_http_in_flight). */
    synchronized int inFlight() {
        return inFlight;
    }

    /** Waits until no request is being answered or {@code deadlineNanos} (System.nanoTime) has passed; returns how many are left. */
    synchronized int awaitRequests(long deadlineNanos) throws InterruptedException {
        for (long left; inFlight > 0 && (left = deadlineNanos - System.nanoTime()) > 0; ) {
            wait(Math.max(1, left / 1_000_000));
        }
        return inFlight;
    }
}
