// Whitespace control (trim_blocks, lstrip_blocks, -/+ markers, comments, raw) and statements (for/loop.*, if, set, namespace, with, macros, call, filter blocks).
// Every expected string below was produced by Python jinja2 3.1.6 configured as
// transformers compiles chat templates (ImmutableSandboxedEnvironment, trim_blocks,
// lstrip_blocks, loopcontrols, its tojson) and pasted here; the test does not run Python.
#include "chat/jinja_case_runner.h"

namespace ember::chat {
namespace {

const JinjaCase kCases[] = {
    {R"J(a
{% if true %}
b
{% endif %}
c)J",
     "{}",
     R"J(a
b
c)J"},
    {R"J(a
  {% if true %}
  b
  {% endif %}
c)J",
     "{}",
     R"J(a
  b
c)J"},
    {R"J(a  {% if true %}b{% endif %}  c)J",
     "{}",
     R"J(a  b  c)J"},
    {R"J(  {% if true %}x{% endif %})J",
     "{}",
     R"J(x)J"},
    {"\011 {% if true %}x{% endif %}\n",
     "{}",
     R"J(x)J"},
    {R"J(a
    {{ 'x' }}
b)J",
     "{}",
     R"J(a
    x
b)J"},
    {R"J(a   {%- if true -%}   b   {%- endif -%}   c)J",
     "{}",
     R"J(abc)J"},
    {R"J(a

  {%- if true %}

 b{% endif %})J",
     "{}",
     R"J(a
 b)J"},
    {R"J(a {%+ if true %}x{% endif %})J",
     "{}",
     R"J(a x)J"},
    {R"J(a
   {%+ if true %}x{% endif %})J",
     "{}",
     R"J(a
   x)J"},
    {R"J(a {{- 'x' -}} b)J",
     "{}",
     R"J(axb)J"},
    {R"J(a
{# comment #}
b)J",
     "{}",
     R"J(a
b)J"},
    {R"J(a
   {# comment #}
b)J",
     "{}",
     R"J(a
b)J"},
    {R"J(a {#- comment -#}   b)J",
     "{}",
     R"J(ab)J"},
    {R"J(a
{#- comment +#}
b)J",
     "{}",
     R"J(a
b)J"},
    {R"J(x{% for i in [1,2] %}
  {{ i }}
{% endfor %}
y)J",
     "{}",
     R"J(x  1
  2
y)J"},
    {R"J({% for i in [1,2] -%}
  {{ i }}
{%- endfor %})J",
     "{}",
     R"J(12)J"},
    {R"J({% raw %}
{{ x }}{% if %}
{% endraw %}
after)J",
     "{}",
     R"J(
{{ x }}{% if %}
after)J"},
    {R"J(a
  {% raw %}{{x}}{% endraw %}
b)J",
     "{}",
     R"J(a
{{x}}b)J"},
    {R"J({%- raw -%}  {{ x }}  {%- endraw -%}  b)J",
     "{}",
     R"J({{ x }}b)J"},
    {"line1\015\nline2\015\n{% if true %}\015\nx\015\n{% endif %}\015\n",
     "{}",
     R"J(line1
line2
x
)J"},
    {R"J(trailing
)J",
     "{}",
     R"J(trailing)J"},
    {R"J(trailing

)J",
     "{}",
     R"J(trailing
)J"},
    {R"J({% if true %}

{% endif %})J",
     "{}",
     R"J(
)J"},
    {R"J({{ 'a' }}
{{ 'b' }}
)J",
     "{}",
     R"J(a
b)J"},
    {R"J({% set x = 1 %}
{{ x }}
)J",
     "{}",
     R"J(1)J"},
    {R"J({%- set x = 1 -%}

   {{ x }}   

)J",
     "{}",
     R"J(1   
)J"},
    {R"J(<{% if true %}  
{% endif %}>)J",
     "{}",
     R"J(<  
>)J"},
    {R"J({% if true %}x{% endif %}  
  y)J",
     "{}",
     R"J(x  
  y)J"},
    {"  \011{%- if true %}x{% endif %}",
     "{}",
     R"J(x)J"},
    {R"J(a　{%- if true %}x{% endif %})J",
     "{}",
     R"J(ax)J"},
    {R"J({{ '{{' }} {{ '}}' }})J",
     "{}",
     R"J({{ }})J"},
    {R"J({{ {'a': {'b': 1}} }})J",
     "{}",
     R"J({'a': {'b': 1}})J"},
    {R"J({{ {'a': {'b': 1}}['a'] }})J",
     "{}",
     R"J({'b': 1})J"},
    {R"J({# a {{ b }} {% c %} #}x)J",
     "{}",
     R"J(x)J"},
    {R"J({{ 1 }}{#
 multi
 line
#}
{{ 2 }})J",
     "{}",
     R"J(12)J"},
    {R"J({% macro m() %}
  inner
{% endmacro %}
[{{ m() }}])J",
     "{}",
     R"J([  inner
])J"},
    {R"J({% for x in [1] %}{% if x %}
    a
    {% endif %}
{% endfor %})J",
     "{}",
     R"J(    a
)J"},
    {R"J({% for x in [1,2,3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %})J",
     "{}",
     R"J(1032TrueFalse3;2121FalseFalse3;3210FalseTrue3;)J"},
    {R"J({% for x in [1,2,3] %}{{ loop.previtem }}/{{ loop.nextitem }};{% endfor %})J",
     "{}",
     R"J(/2;1/3;2/;)J"},
    {R"J({% for x in 'abc' %}{{ loop.cycle('o', 'e') }}{{ x }}{% endfor %})J",
     "{}",
     R"J(oaeboc)J"},
    {R"J({% for x in [] %}x{% else %}empty{% endfor %})J",
     "{}",
     R"J(empty)J"},
    {R"J({% for x in [1, 2, 3, 4] if x is even %}{{ x }}{{ loop.index }}{{ loop.length }} {% endfor %})J",
     "{}",
     R"J(212 422 )J"},
    {R"J({% for x in [1, 2, 3, 4] if x > 10 %}{{ x }}{% else %}none{% endfor %})J",
     "{}",
     R"J(none)J"},
    {R"J({% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }},{% endfor %})J",
     "{}",
     R"J(a=1,b=2,)J"},
    {R"J({% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %})J",
     "{}",
     R"J(ab)J"},
    {R"J({% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %})J",
     "{}",
     R"J(37)J"},
    {R"J({% for (a, b) in [(1, 2)] %}{{ a }}{{ b }}{% endfor %})J",
     "{}",
     R"J(12)J"},
    {R"J({% for x in [1, 2, 3, 4, 5] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %})J",
     "{}",
     R"J(13)J"},
    {R"J({% for x in [1,2] %}{% for y in [3,4] %}{{ loop.index }}{{ x }}{{ y }} {% endfor %}{{ loop.index }}|{% endfor %})J",
     "{}",
     R"J(113 214 1|123 224 2|)J"},
    {R"J({% set x = 0 %}{% for i in range(3) %}{{ x }}{% set x = i %}{{ x }}|{% endfor %}{{ x }})J",
     "{}",
     R"J(00|01|02|0)J"},
    {R"J({% for i in range(3) %}{% set y = i %}{% endfor %}{{ y }})J",
     "{}",
     R"J()J"},
    {R"J({% set ns = namespace(total=0) %}{% for i in range(5) %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }})J",
     "{}",
     R"J(10)J"},
    {R"J({% for x in undefined_v %}x{% else %}u{% endfor %})J",
     "{}",
     R"J(u)J"},
    {R"J({{ range(5) | list }} {{ range(2, 5) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }})J",
     "{}",
     R"J([0, 1, 2, 3, 4] [2, 3, 4] [10, 7, 4, 1] [])J"},
    {R"J({% for x in [1, 2, 3] %}{{ loop.changed(x > 1) }}{% endfor %})J",
     "{}",
     R"J(TrueTrueFalse)J"},
    {R"J({% for item in tree recursive %}[{{ item.n }}{% if item.c %}{{ loop(item.c) }}{% endif %}:{{ loop.depth }}]{% endfor %})J",
     R"J({"tree": [{"n": 1, "c": [{"n": 2, "c": [{"n": 3}]}]}, {"n": 4}]})J",
     R"J([1[2[3:3]:2]:1][4:1])J"},
    {R"J({% for m in messages[::-1] %}{{ m }}{% endfor %})J",
     R"J({"messages": [1, 2, 3]})J",
     R"J(321)J"},
    {R"J({% for x in [3,1,2]|sort %}{{ x }}{% endfor %})J",
     "{}",
     R"J(123)J"},
    {R"J({% for x in [1] %}{{ loop.foo }}{% endfor %})J",
     "{}",
     R"J()J"},
    {R"J({% set a, b = 1, 2 %}{{ a }}{{ b }})J",
     "{}",
     R"J(12)J"},
    {R"J({% set a = 1, 2 %}{{ a }})J",
     "{}",
     R"J((1, 2))J"},
    {R"J({% set x %}block {{ 1 + 1 }}{% endset %}[{{ x }}])J",
     "{}",
     R"J([block 2])J"},
    {R"J({% set x | upper %}block{% endset %}[{{ x }}])J",
     "{}",
     R"J([BLOCK])J"},
    {R"J({% set ns = namespace(a=1) %}{% set ns.b = 2 %}{{ ns.a }}{{ ns.b }}{{ ns.c }}|{{ ns }})J",
     "{}",
     R"J(12|<Namespace {'a': 1, 'b': 2}>)J"},
    {R"J({% set ns = namespace({'a': 5}, b=6) %}{{ ns.a }}{{ ns.b }})J",
     "{}",
     R"J(56)J"},
    {R"J({% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }})J",
     "{}",
     R"J(3)J"},
    {R"J({% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', 'Hi') }} {{ greet(name='Cy', greeting='Yo') }})J",
     "{}",
     R"J(Hello, Ann! Hi, Bob! Yo, Cy!)J"},
    {R"J({% macro m(a, b=a ~ '!') %}{{ a }}{{ b }}{% endmacro %}{{ m('x') }})J",
     "{}",
     R"J(xx!)J"},
    {R"J({% macro m(a) %}[{{ a }}]{% endmacro %}{{ m() }})J",
     "{}",
     R"J([])J"},
    {R"J({% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }})J",
     "{}",
     R"J((1, 2){'k': 3})J"},
    {R"J({% macro outer() %}<{{ caller() }}>{% endmacro %}{% call outer() %}inside{% endcall %})J",
     "{}",
     R"J(<inside>)J"},
    {R"J({% macro list(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) list([1, 2]) %}({{ x }}){% endcall %})J",
     "{}",
     R"J((1)(2))J"},
    {R"J({% filter upper %}hello {{ 'world' }}{% endfilter %})J",
     "{}",
     R"J(HELLO WORLD)J"},
    {R"J({% filter replace('a', 'b') | upper %}banana{% endfilter %})J",
     "{}",
     R"J(BBNBNB)J"},
    {R"J({% set g = 'top' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }})J",
     "{}",
     R"J(top)J"},
    {R"J({% macro m() %}{% set inner = 1 %}{{ inner }}{% endmacro %}{{ m() }}{{ inner }})J",
     "{}",
     R"J(1)J"},
    {R"J({% if true %}{% set leak = 1 %}{% endif %}{{ leak }})J",
     "{}",
     R"J(1)J"},
    {R"J({% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1) | int) }}{% endif %}{% endmacro %}{{ fact(5) }})J",
     "{}",
     R"J(120)J"},
    {R"J({% block content %}in block{% endblock %})J",
     "{}",
     R"J(in block)J"},
    {R"J({% print 1, 'a' %})J",
     "{}",
     R"J(1a)J"},
    {R"J({{ m }}{% macro m() %}{% endmacro %}{{ m }})J",
     "{}",
     R"J(<Macro 'm'>)J"},
    {R"J({% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }})J",
     "{}",
     R"J(abab)J"},
    {R"J({% set j = joiner('|') %}{% for x in [1,2,3] %}{{ j() }}{{ x }}{% endfor %})J",
     "{}",
     R"J(1|2|3)J"},
    {R"J({{ dict(a=1, b=2) }} {{ dict({'x': 1}) }} {{ dict([('p', 1)]) }})J",
     "{}",
     R"J({'a': 1, 'b': 2} {'x': 1} {'p': 1})J"},
    {R"J({%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{%- if ns.multi_step_tool and message.role == 'user' and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}{{ ns.last_query_index }})J",
     R"J({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "<tool_response>x</tool_response>"}]})J",
     R"J(0)J"},
    {R"J({%- if '</think>' in content %}{%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}{%- set content = content.split('</think>')[-1].lstrip('\n') %}{%- endif %}[{{ reasoning_content }}][{{ content }}])J",
     R"J({"content": "<think>\nplan\n</think>\n\nanswer"})J",
     R"J([plan][answer])J"},
    {R"J({%- if enable_thinking is defined and enable_thinking is false %}off{%- else %}on{%- endif %})J",
     R"J({"enable_thinking": false})J",
     R"J(off)J"},
    {R"J({%- if not date_string is defined %}{%- set date_string = "26 Jul 2024" %}{%- endif %}{{ date_string }})J",
     "{}",
     R"J(26 Jul 2024)J"},
    {R"J({%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = "" %}{%- endif %}[{{ system_message }}]{{ messages|length }})J",
     R"J({"messages": [{"role": "system", "content": "  sys \n"}, {"role": "user", "content": "u"}]})J",
     R"J([sys]1)J"},
    {R"J({%- for t in tools %}{{- t | tojson(indent=4) }}{{- "\n\n" }}{%- endfor %})J",
     R"J({"tools": [{"name": "f", "parameters": {"a": 1}}]})J",
     R"J({
    "name": "f",
    "parameters": {
        "a": 1
    }
}

)J"},
    {R"J({%- for arg_name, arg_val in tool_call.arguments | items %}{{- arg_name + '="' + arg_val + '"' }}{%- if not loop.last %}{{- ", " }}{%- endif %}{%- endfor %})J",
     R"J({"tool_call": {"arguments": {"query": "x", "k": "2"}}})J",
     R"J(query="x", k="2")J"},
    {R"J({{- builtin_tools | reject('equalto', 'code_interpreter') | join(", ") }})J",
     R"J({"builtin_tools": ["brave_search", "code_interpreter", "wolfram_alpha"]})J",
     R"J(brave_search, wolfram_alpha)J"},
    {R"J({%- if tool_call.arguments is string %}{{ tool_call.arguments }}{%- else %}{{ tool_call.arguments | tojson }}{%- endif %})J",
     R"J({"tool_call": {"arguments": {"city": "Paris", "n": 1.5}}})J",
     R"J({"city": "Paris", "n": 1.5})J"},
    {R"J({%- for message in messages %}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}{{ message.role[0] }}{%- endfor %})J",
     R"J({"messages": [{"role": "user"}, {"role": "assistant"}]})J",
     R"J(ua)J"},
    {R"J({% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}{% for p in m.content %}{% if p.type == 'text' %}{{ p.text }}{% endif %}{% endfor %}{% endif %}|{% endfor %})J",
     R"J({"messages": [{"content": "s"}, {"content": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]}]})J",
     R"J(s|ab|)J"},
    {R"J({%- set ns = namespace(found=false) -%}
{%- for m in messages -%}
    {%- if m.role == 'system' -%}
        {%- set ns.found = true -%}
    {%- endif -%}
{%- endfor -%}
{{ ns.found }})J",
     R"J({"messages": [{"role": "system"}]})J",
     R"J(True)J"},
    {R"J({{ bos_token }}{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] | trim + '<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %})J",
     R"J({"bos_token": "<s>", "add_generation_prompt": true, "messages": [{"role": "user", "content": " hi "}]})J",
     R"J(<s><|im_start|>user
hi<|im_end|>
<|im_start|>assistant
)J"},
    {R"J({% for x in items %}{% set outer_loop = loop %}{% for y in x %}{{ outer_loop.index }}.{{ loop.index }} {% endfor %}{% endfor %})J",
     R"J({"items": [[1, 2], [3]]})J",
     R"J(1.1 1.2 2.1 )J"},
    {R"J({% macro render(m, prefix='') %}{{ prefix }}{{ m.role }}{% if m.children %}({% for c in m.children %}{{ render(c, prefix ~ '-') }}{% endfor %}){% endif %}{% endmacro %}{{ render(tree) }})J",
     R"J({"tree": {"role": "a", "children": [{"role": "b", "children": [{"role": "c"}]}, {"role": "d"}]}})J",
     R"J(a(-b(--c)-d))J"},
    {R"J({% autoescape true %}{{ '<x>' }}{% endautoescape %})J",
     "{}",
     R"J(&lt;x&gt;)J"},
    {R"J({% for i in d %}[{{ x }}]{% endfor %}{% set x = 1 %}{{ x }})J",
     R"J({"x": "X", "d": {"k": 1}})J",
     R"J([]1)J"},
    {R"J({% macro m() %}[{{ x }}]{% endmacro %}{{ m() }}{% set x = 1 %}{{ m() }})J",
     R"J({"x": "X"})J",
     R"J([][1])J"},
    {R"J({% for i in [1] %}{% for j in [1] %}[{{ x }}]{% endfor %}{% set x = 1 %}{% endfor %})J",
     R"J({"x": "X"})J",
     R"J([])J"},
    {R"J({% for i in [1,2] %}[{{ x }}]{% endfor %}{% if c %}{% set x = 1 %}{% endif %})J",
     R"J({"x": "X", "c": true})J",
     R"J([X][X])J"},
    {R"J({% set x %}[{{ x }}]{% endset %}{{ x }})J",
     R"J({"x": "X"})J",
     R"J([])J"},
    {R"J({% set x %}{% set y = 1 %}{% endset %}[{{ y }}]{% filter upper %}{% set z = 1 %}{% endfilter %}[{{ z }}]{% with %}{% set w = 1 %}{% endwith %}[{{ w }}])J",
     "{}",
     R"J([][][])J"},
    {R"J({% for i in [1,2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }})J",
     R"J({"x": "X"})J",
     R"J(X1X2X)J"},
    {R"J({% for i in [1, 2] %}{{ i }}{% set i = 5 %}{{ i }}{% endfor %})J",
     "{}",
     R"J(1525)J"},
    {R"J({% macro m(a) %}{% set a = a ~ 1 %}{{ a }}{% endmacro %}{{ m('p') }})J",
     "{}",
     R"J(p1)J"},
    {R"J({% for i in [1] %}{% set x %}[{{ x }}]{% endset %}{{ x }}{% endfor %})J",
     R"J({"x": "X"})J",
     R"J([])J"},
    {R"J({% for i in [1,2] %}{% break %}{% else %}E{% endfor %}|{% for i in [1,2] %}{% continue %}{% else %}E{% endfor %}|{% for i in [1,2] %}{{ i }}{% if i == 1 %}{% continue %}{% endif %}{% else %}E{% endfor %}|{% for i in [1,2] %}{% if i == 2 %}{% break %}{% endif %}{% else %}E{% endfor %})J",
     "{}",
     R"J(E|E|12|)J"},
    {R"J({% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}{% macro n() %}[{{ caller is defined }}]{% endmacro %}{{ n() }}{% call n() %}{% endcall %})J",
     "{}",
     R"J(1(2,){'k': 3}[False][True])J"},
};

TEST(JinjaSyntaxTest, MatchesJinja2) { run_jinja_cases(kCases); }

}  // namespace
}  // namespace ember::chat
