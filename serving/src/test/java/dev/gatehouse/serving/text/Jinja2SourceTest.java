package dev.gatehouse.serving.text;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What Jinja2Source changes in a template, and what it leaves alone. */
class Jinja2SourceTest {

    @ParameterizedTest
    @CsvSource(delimiterString = " => ", quoteCharacter = '"', textBlock = """
            {{ f(a=x|length - 1, b='c=d, e') }} => {{ f(a=(x|length - 1), b=('c=d, e')) }}
            {{ g(h(k=1), m = n) }} => {{ g(h(k=(1)), m =( n)) }}
            {{ x | tojson(indent=4) }} => {{ x | tojson(indent=(4)) }}
            {% if a == b and f(c == d) %} => {% if a == b and f(c == d) %}
            {% if not x is defined and y %} => {% if not ( x is defined) and y %}
            {%- if not (a or b) -%} => {%- if not ( (a or b)) -%}
            {{ 'y' if not x else 'n' }} => {{ 'y' if not ( x) else 'n' }}
            {% set ns.flag = not ns.flag %} => {% set ns.flag = not ( ns.flag) %}
            {% if x not in y %} => {% if x not in y %}
            {% if x is not none %} => {% if x is not none %}
            {{ 'not = (' }} => {{ 'not = (' }}
            {% for m in messages[::-1] %} => {% for m in messages|step_slice(none, none, -1) %}
            {{ s[1:5:2] }} {{ s[1:] }} {{ s[-1] }} => {{ s|step_slice(1, 5, 2) }} {{ s[1:] }} {{ s[-1] }}
            {% raw %}{{ f(a=1) }} not x{% endraw %} => {% raw %}{{ f(a=1) }} not x{% endraw %}
            {# f(a=1) not x #}f(a=1) not x => {# f(a=1) not x #}f(a=1) not x
            {% macro m(a=1) %}{{ a }}{% endmacro %} => {% macro m(a=1) %}{{ a }}{% endmacro %}
            {%- for m in messages if not m.x -%} => {%- set gatehouse_filtered_loop0 = namespace(items=([])) %}{% for m in messages %}{% if not ( m.x) %}{% do gatehouse_filtered_loop0.items.append(m) %}{% endif %}{% endfor %}{% for m in gatehouse_filtered_loop0.items -%}
            """)
    void rewritesOnlyWhatJinjavaReadsDifferently(String template, String expected) {
        assertEquals(expected, Jinja2Source.of(template));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            "a\\r\\nb\\n"   | "a\\nb"
            "a\\rb\\n\\n"   | "a\\nb\\n"
            """)
    void newlinesAsJinja2ReadsThem(String template, String expected) {
        assertEquals(expected.translateEscapes(), Jinja2Source.of(template.translateEscapes()));
    }
}
