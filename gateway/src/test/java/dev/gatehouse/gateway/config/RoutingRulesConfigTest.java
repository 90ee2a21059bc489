package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code rules:}, {@code version}, {@code sticky} and {@code aliases:} in gatehouse.yaml, and the errors that name a bad path. */
class RoutingRulesConfigTest {
    private static final String PROVIDERS = """
            providers:
              us: {type: openai-compatible, base-url: http://us.example/v1}
              eu: {type: openai-compatible, base-url: http://eu.example/v1}
              gone: {type: openai, base-url: https://api.openai.com/v1, api-key: ${UNSET_KEY}}
            """;

    private static GatehouseConfig parse(String yaml) {
        return GatehouseConfig.parse(PROVIDERS + yaml, Map.of());
    }

    private static String refusal(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void readsRulesInOrderWithTheirConditionsCompiled() {
        GatehouseConfig c = parse("""
                models:
                  - name: chat
                    version: 2025-08
                    sticky: true
                    rules:
                      - name: eu
                        when:
                          header: {X-Region: [eu, eu-west]}
                          key: [search, key_abc]
                          jwt-user: alice
                          group: beta
                          claim: {tier: gold, realm_access.roles: admin, level: 3}
                          user: bob
                          metadata: {tenant: acme}
                        targets: [{provider: eu, model: m-eu, weight: 2}, {provider: us, model: m-us}]
                      - name: v2025-05
                        when: {version: 2025-05}
                        targets: [{provider: us, model: old}]
                    targets: [{provider: us, model: new}]
                aliases:
                  chat-default: chat@2025-05
                  chat-latest: chat
                """);
        ModelRoute chat = c.models().getFirst();
        assertEquals("2025-08", chat.version());
        assertTrue(chat.sticky());
        assertEquals(List.of("eu", "v2025-05"), chat.rules().stream().map(ModelRoute.Rule::name).toList());
        RuleMatch eu = chat.rules().getFirst().when();
        assertEquals(List.of(new RuleMatch.Field(List.of("x-region"), Set.of("eu", "eu-west"))), eu.headers(),
                "header names are lower-cased once, at start");
        assertEquals(Set.of("search", "key_abc"), eu.keys());
        assertEquals(Set.of("alice"), eu.jwtUsers());
        assertEquals(List.of(new RuleMatch.Field(List.of("groups"), Set.of("beta")),
                new RuleMatch.Field(List.of("tier"), Set.of("gold")),
                new RuleMatch.Field(List.of("realm_access", "roles"), Set.of("admin")),
                new RuleMatch.Field(List.of("level"), Set.of("3"))), eu.claims());
        assertEquals(Set.of("bob"), eu.users());
        assertEquals(List.of(new RuleMatch.Field(List.of("tenant"), Set.of("acme"))), eu.metadata());
        assertEquals(2.0, chat.rules().getFirst().targets().getFirst().weight());
        assertEquals(Set.of("2025-08", "2025-05"), chat.versions());
        assertEquals(Map.of("chat-default", new ModelAlias("chat", "2025-05"), "chat-latest", new ModelAlias("chat", null)),
                c.aliases());
    }

    @Test
    void aRuleWhoseProvidersAreAllSkippedIsKeptEmptySoItsRequestsAreRefusedNotSentElsewhere() {
        GatehouseConfig c = parse("""
                models:
                  - name: chat
                    rules:
                      - name: eu
                        when: {header: {x-region: eu}}
                        targets: [{provider: gone, model: m}]
                    targets: [{provider: us, model: m}]
                """);
        assertEquals(List.of(), c.models().getFirst().rules().getFirst().targets());
        assertTrue(c.warnings().stream().anyMatch(w -> w.contains("rule 'eu': none of its targets is available")), c.warnings().toString());
    }

    @Test
    void badRulesAreRefusedAtStartNamingThePath() {
        String rule = """
                models:
                  - name: chat
                    rules:
                      - %s
                    targets: [{provider: us, model: m}]
                """;
        assertTrue(refusal(rule.formatted("{name: a, when: {headers: {x: y}}, targets: [{provider: us, model: m}]}"))
                .startsWith("models[0].rules[0].when: unknown key 'headers' (expected one of ["));
        assertTrue(refusal(rule.formatted("{name: a, when: {}, targets: [{provider: us, model: m}]}"))
                .startsWith("models[0].rules[0].when must be a mapping of conditions"));
        assertEquals("models[0].rules[0]: 'when' is required",
                refusal(rule.formatted("{name: a, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[0].targets must be a non-empty list",
                refusal(rule.formatted("{name: a, when: {user: x}}")));
        assertEquals("models[0].rules[0].name: 'default' is the name of the route's own targets",
                refusal(rule.formatted("{name: default, when: {user: x}, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[0].name: 'a b' must be letters, digits, '.', '_' or '-' (at most 64)",
                refusal(rule.formatted("{name: a b, when: {user: x}, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[0].when.header: 'x region' is not a header name",
                refusal(rule.formatted("{name: a, when: {header: {x region: eu}}, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[0].when.header must be a mapping of names to values, e.g. {x-region: eu}",
                refusal(rule.formatted("{name: a, when: {header: x-region}, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[0].when.user must be a value or a non-empty list of values",
                refusal(rule.formatted("{name: a, when: {user: {x: y}}, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[0].when.key must list 1 to 1000 values",
                refusal(rule.formatted("{name: a, when: {key: []}, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[0].targets[0].provider: no provider named 'nope'",
                refusal(rule.formatted("{name: a, when: {user: x}, targets: [{provider: nope, model: m}]}")));
        assertEquals("models[0].rules[0].when.claim: 'a..b' is not a claim name (dotted names reach into objects)",
                refusal(rule.formatted("{name: a, when: {claim: {a..b: x}}, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[0].when.version: 'v 1' is not a version tag (letters, digits, '.', '_', '-'; at most 64)",
                refusal(rule.formatted("{name: a, when: {version: v 1}, targets: [{provider: us, model: m}]}")));
        assertEquals("models[0].rules[1].name: 'a' is already the name of an earlier rule", refusal("""
                models:
                  - name: chat
                    rules:
                      - {name: a, when: {user: x}, targets: [{provider: us, model: m}]}
                      - {name: a, when: {user: y}, targets: [{provider: us, model: m}]}
                    targets: [{provider: us, model: m}]
                """));
        assertEquals("models[0].sticky must be true or false",
                refusal("models: [{name: chat, sticky: yes please, targets: [{provider: us, model: m}]}]"));
        assertEquals("models[0].version must be a version tag (letters, digits, '.', '_', '-'; at most 64)",
                refusal("models: [{name: chat, version: [1], targets: [{provider: us, model: m}]}]"));
    }

    @Test
    void badAliasesAreRefusedAtStartNamingThePath() {
        String models = """
                models:
                  - name: chat
                    version: v2
                    rules: [{name: old, when: {version: v1}, targets: [{provider: us, model: m1}]}]
                    targets: [{provider: us, model: m2}]
                  - name: cloud
                    targets: [{provider: gone, model: m}]
                """;
        assertEquals("aliases.x: no model named 'nope' in models:", refusal(models + "aliases: {x: nope}"));
        assertEquals("aliases.x: model 'chat' has no version 'v3' (it has v2, v1)", refusal(models + "aliases: {x: chat@v3}"));
        assertEquals("aliases.chat: 'chat' is already a model in models:", refusal(models + "aliases: {chat: chat@v1}"));
        assertEquals("aliases.x must name a model of models:, as NAME or NAME@VERSION", refusal(models + "aliases: {x: [chat]}"));
        GatehouseConfig c = parse(models + "aliases: {x: chat@v1, y: cloud}");
        assertEquals(Map.of("x", new ModelAlias("chat", "v1")), c.aliases(), "an alias of a route not served is dropped");
        assertTrue(c.warnings().contains("alias 'y' not served: its model 'cloud' is not"), c.warnings().toString());
    }
}
