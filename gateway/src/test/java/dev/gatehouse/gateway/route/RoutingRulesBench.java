package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.config.GatehouseConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;

/**
 * What picking a rule costs per request (scripts/bench-routing, docs/benchmarks.md): {@link Router#plan}
 * on a route of 0 to {@code bench.rules} rules, each with a header, a key, a claim and a metadata
 * condition, for a request that matches none of them (every rule is tried: the worst case), random
 * and sticky; nanoseconds per plan, the best of {@code bench.rounds} rounds of {@code bench.plans}.
 */
public final class RoutingRulesBench {
    public static void main(String[] args) throws Exception {
        int maxRules = Integer.getInteger("bench.rules", 200);
        int plans = Integer.getInteger("bench.plans", 200_000);
        int rounds = Integer.getInteger("bench.rounds", 5);
        ChatRequest request = new ChatRequest("chat", List.of(new Message("user", "hi")), null, 5, null, 1, false, false,
                false, "user-42");
        RequestAttributes who = new RequestAttributes(name -> name.equals("x-region") ? "us" : null, "key_1", "web", "alice",
                Map.of("groups", List.of("staff", "eng"), "tier", "silver"), "user-42", null);
        for (boolean sticky : new boolean[] {false, true}) { // warm-up: the JIT compiles plan() before anything counts
            time(router(maxRules, sticky), request, who, plans, 1);
        }
        System.out.println("| rules | random ns/plan | sticky ns/plan |");
        System.out.println("|---|---|---|");
        for (int rules = 0; rules <= maxRules; rules = rules == 0 ? 10 : rules * 4) {
            System.out.printf("| %d | %.0f | %.0f |%n", rules, time(router(rules, false), request, who, plans, rounds),
                    time(router(rules, true), request, who, plans, rounds));
        }
    }

    private static Router router(int rules, boolean sticky) {
        StringBuilder yaml = new StringBuilder("""
                providers:
                  a: {type: openai-compatible, base-url: http://127.0.0.1:9/v1}
                  b: {type: openai-compatible, base-url: http://127.0.0.1:9/v1}
                models:
                  - name: chat
                    sticky: %s
                """.formatted(sticky));
        if (rules > 0) {
            yaml.append("    rules:\n");
            for (int i = 0; i < rules; i++) {
                yaml.append("      - {name: r").append(i).append(", when: {header: {x-region: [eu-").append(i)
                        .append(", ap-").append(i).append("]}, key: [team-").append(i).append("], claim: {tier: gold-")
                        .append(i).append("}, metadata: {tenant: t").append(i).append("}}, targets: [{provider: a, model: m")
                        .append(i).append("}]}\n");
            }
        }
        yaml.append("""
                    targets:
                      - {provider: a, model: stable, priority: 0, weight: 9}
                      - {provider: b, model: candidate, priority: 0, weight: 1}
                """);
        return Router.of(GatehouseConfig.parse(yaml.toString(), Map.of()), new LocalModels(), new SimpleMeterRegistry());
    }

    private static double time(Router router, ChatRequest request, RequestAttributes who, int plans, int rounds) {
        double best = Double.MAX_VALUE;
        long sink = 0;
        for (int r = 0; r < rounds; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < plans; i++) {
                sink += router.plan(request, who).targets().size();
            }
            best = Math.min(best, (System.nanoTime() - start) / (double) plans);
        }
        if (sink == 42) {
            System.out.println(); // keeps the loop's work observable
        }
        return best;
    }
}
