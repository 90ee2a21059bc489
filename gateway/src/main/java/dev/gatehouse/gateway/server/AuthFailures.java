package dev.gatehouse.gateway.server;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.chat.ApiException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import java.time.Duration;

/**
 * Rate-limits 401 and 403 answers per client address: past {@code perMinute} of them (a bucket that
 * refills evenly over the minute), the address gets 429 for everything until the bucket has room
 * again, before any key is looked at, so a client guessing keys or spamming a model it may not use
 * cannot make the server do work, write usage rows or log lines for it. The address is the TCP
 * peer's: behind a reverse proxy, every client shares the proxy's bucket.
 */
final class AuthFailures implements Filter {
    /** Addresses remembered at once: beyond it the least recent are forgotten (their buckets start full again). */
    private static final int MAX_ADDRESSES = 100_000;

    private final double perMinute;
    private final Cache<String, Bucket> buckets = Caffeine.newBuilder().maximumSize(MAX_ADDRESSES)
            .expireAfterAccess(Duration.ofMinutes(10)).build();

    AuthFailures(int perMinute) {
        this.perMinute = perMinute;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String address = req.remotePeer().host();
        Bucket bucket = buckets.getIfPresent(address);
        if (bucket != null) {
            long wait = bucket.secondsUntilRoom(System.nanoTime());
            if (wait > 0) {
                OpenAiApi.send(res, new ApiException(429, "requests", "rate_limit_exceeded", null,
                        "Too many failed authentications from this address; retry in " + wait + " s.", (int) wait));
                return;
            }
        }
        try {
            chain.proceed();
        } finally { // also when the handler closes the connection after its 401 (an unread body)
            int status = res.status().code();
            if (status == 401 || status == 403) {
                buckets.get(address, a -> new Bucket()).take(System.nanoTime());
            }
        }
    }

    /** Failures left, refilled evenly at perMinute a minute up to perMinute. */
    private final class Bucket {
        private double left = perMinute;
        private long at = System.nanoTime();

        private void refill(long now) {
            left = Math.min(perMinute, left + (now - at) / 60e9 * perMinute);
            at = now;
        }

        synchronized void take(long now) {
            refill(now);
            left -= 1;
        }

        synchronized long secondsUntilRoom(long now) {
            refill(now);
            return left >= 1 ? 0 : (long) Math.ceil((1 - left) * 60 / perMinute);
        }
    }
}
