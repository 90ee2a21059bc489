package dev.gatehouse.gateway.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.usage.RecentTraffic;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.time.Instant;
import java.util.List;

/**
 * What the dashboard's overview and fallback pages read, master key only: {@code GET /admin/traffic}
 * (this instance's last hour, minute by minute) and {@code GET /admin/fallbacks} (the latest requests
 * that passed over a target, from the usage log) and {@code GET /admin/providers} (each provider's
 * circuit breaker and its latest failures).
 */
public final class TrafficApi implements HttpService {
    private static final int FALLBACKS_SHOWN = 100;

    private final ApiAuth auth;
    private final RecentTraffic traffic;
    private final UsageRecorder usage;
    private final Router router;

    public TrafficApi(ApiAuth auth, RecentTraffic traffic, UsageRecorder usage, Router router) {
        this.auth = auth;
        this.traffic = traffic;
        this.usage = usage;
        this.router = router;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/traffic", AdminHandlers.guarded(auth, this::traffic))
                .get("/fallbacks", AdminHandlers.guarded(auth, this::fallbacks))
                .get("/providers", AdminHandlers.guarded(auth, this::providers));
    }

    private void traffic(ServerRequest req, ServerResponse res) {
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        ArrayNode data = out.putArray("data");
        for (RecentTraffic.Minute m : traffic.lastHour(Instant.now())) {
            ObjectNode n = data.addObject();
            n.put("at", m.at().toString());
            n.put("requests", m.requests());
            n.put("errors", m.errors());
            n.put("prompt-tokens", m.promptTokens());
            n.put("completion-tokens", m.completionTokens());
            n.put("cost-usd", m.costUsd());
            n.put("latency-p50-ms", m.latencyP50Ms());
            n.put("latency-p95-ms", m.latencyP95Ms());
            n.put("first-token-p50-ms", m.firstTokenP50Ms());
            n.put("first-token-p95-ms", m.firstTokenP95Ms());
        }
        AdminHandlers.send(res, out);
    }

    private List<UsageLog.Fallback> recentFallbacks() throws InterruptedException {
        if (usage.log() == null) {
            return List.of();
        }
        usage.log().flush(usage.log().timeout()); // a request just answered is on the page
        return usage.log().recentFallbacks(FALLBACKS_SHOWN);
    }

    private void providers(ServerRequest req, ServerResponse res) throws InterruptedException {
        List<UsageLog.Fallback> fallbacks = recentFallbacks();
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        ArrayNode data = out.putArray("data");
        router.breakerStates().forEach((provider, state) -> {
            ObjectNode n = data.addObject();
            n.put("provider", provider);
            n.put("circuit", state);
            ArrayNode errors = n.putArray("recent-failures"); // "provider:model (why)" parts of the fallbacks column
            for (UsageLog.Fallback f : fallbacks) {
                for (String passed : f.fallbacks().split(", ")) {
                    if (passed.startsWith(provider + ":") && errors.size() < 5) {
                        errors.addObject().put("at", f.at().toString()).put("failure", passed);
                    }
                }
            }
        });
        AdminHandlers.send(res, out);
    }

    private void fallbacks(ServerRequest req, ServerResponse res) throws InterruptedException {
        ObjectNode out = AdminHandlers.JSON.createObjectNode();
        ArrayNode data = out.putArray("data");
        for (UsageLog.Fallback f : recentFallbacks()) {
            ObjectNode n = data.addObject();
            n.put("at", f.at().toString());
            n.put("model", f.model());
            n.put("backend", f.backend());
            n.put("status", f.status());
            n.put("fallbacks", f.fallbacks());
        }
        AdminHandlers.send(res, out);
    }
}
