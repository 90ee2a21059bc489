package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.config.ModelRoute;

import java.util.List;

/**
 * Where one request will be tried: the route its model name resolved to, the rule that picked the
 * targets ({@code default} for the route's own) and those targets in the order to try them.
 *
 * @param metricRoute the route as a metric label: never a name a client made up
 * @param midStreamFailover whether a streamed answer that breaks is continued on the targets after it
 */
public record Plan(String route, String rule, List<ModelRoute.Target> targets, long maxQueueWaitMillis,
                   String metricRoute, boolean midStreamFailover) {

    /** How x-gatehouse-route and the usage log name it: {@code ROUTE:RULE}, e.g. {@code chat:eu}. */
    public String label() {
        return route + ":" + rule;
    }
}
