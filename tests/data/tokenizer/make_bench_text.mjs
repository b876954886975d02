#!/usr/bin/env node
// Writes deterministic ~1 MB benchmark texts for tokenizer throughput measurements:
//   <out-dir>/bench-en.txt  English-like prose (own word lists + sentence templates)
//   <out-dir>/bench-zh.txt  Chinese prose (own word lists + Chinese punctuation)
// Default out-dir: <repo>/deps/bench (git-ignored). The texts are generated on demand and are
// not committed; the same script version always writes byte-identical files (seeded PRNG).
//
// Usage (from the repo root):
//   node tests/data/tokenizer/make_bench_text.mjs [--out-dir DIR] [--bytes N]

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, "..", "..", "..");

const args = process.argv.slice(2);
const argVal = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const OUT_DIR = path.resolve(argVal("--out-dir", path.join(REPO_ROOT, "deps", "bench")));
const TARGET_BYTES = Number(argVal("--bytes", "1000000"));

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

function makeRng(seed) {
  const rnd = mulberry32(seed);
  const int = (n) => Math.floor(rnd() * n);
  return {
    rnd,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    pick: (arr) => arr[int(arr.length)],
    // Zipf-like: early entries much more frequent than late ones.
    zipf: (arr) => arr[Math.min(arr.length - 1, Math.floor(arr.length * Math.pow(rnd(), 2.2)))],
    chance: (p) => rnd() < p,
  };
}

const words = (s) => s.trim().split(/\s+/);

// ---------------------------------------------------------------------------
// English.

const EN = {
  det: words("the a this that every each some no one another their our my your its his her"),
  adj: words(`new old small large quick slow bright dark quiet loud simple complex early late warm cold
    red blue green yellow heavy light strong weak careful careless happy sad busy empty full open closed
    modern ancient local remote public private hidden obvious rare common sharp soft rough smooth tall short
    narrow wide shallow deep fresh stale clean dirty cheap expensive useful useless broken stable fragile
    curious patient brave honest strange familiar distant nearby tiny enormous gentle fierce silent noisy`),
  noun: words(`time year day week month people way man woman child world life hand part place case point
    group company number problem fact system program question work government night home water room mother
    area money story month lot right study book eye job word business issue side kind head house service
    friend father power hour game line end member law car city community name president team minute idea
    kid body information back parent face others level office door health person art war history party
    result change morning reason research girl guy moment air teacher force education river mountain bridge
    garden window kitchen table chair engine compiler parser server client network cache buffer file folder
    model token layer tensor kernel thread process signal report letter market village harbor forest island
    library museum station theory method experiment sample measure record pattern surface journey winter
    summer autumn spring evening season weather storm cloud field stone wall road path street tower castle`),
  verb: words(`builds finds takes makes sees knows gets gives tells feels leaves keeps begins shows hears
    plays runs moves lives believes brings writes sits stands loses pays meets includes continues sets
    learns changes leads understands watches follows stops creates speaks reads allows adds spends grows
    opens walks wins offers remembers loves considers appears buys waits serves sends expects builds stays
    falls cuts reaches kills remains suggests raises passes sells requires reports decides pulls measures
    checks repairs paints describes explains ignores prefers carries collects compares`),
  past: words(`built found took made saw knew got gave told felt left kept began showed heard played ran
    moved lived believed brought wrote sat stood lost paid met included continued set learned changed led
    understood watched followed stopped created spoke read allowed added spent grew opened walked won
    offered remembered loved considered appeared bought waited served sent expected stayed fell cut reached
    remained suggested raised passed sold required reported decided pulled measured checked repaired`),
  adv: words(`quickly slowly carefully quietly loudly again often rarely never always sometimes suddenly
    finally probably certainly clearly simply easily nearly really almost already soon today yesterday
    tomorrow here there everywhere together alone perhaps especially eventually immediately gently`),
  prep: words("in on at by with from into over under about after before between through during without near behind across toward"),
  conj: words("and but so because although while when if since unless until whereas"),
  name: words(`Alice Bob Carol David Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert Sybil
    Trent Victor Walter Yolanda Zoe Marcus Priya Kenji Amara Lucas Ingrid Tomas Fatima Mateo`),
  place: words(`London Paris Tokyo Lagos Lima Oslo Cairo Delhi Sydney Toronto Berlin Madrid Nairobi Seoul
    Jakarta Istanbul Chicago Denver Boston Austin`),
  pron: words("I you he she we they it"),
  aux: ["don't", "doesn't", "can't", "won't", "didn't", "isn't", "wasn't", "couldn't", "shouldn't", "wouldn't"],
  contr: ["I'm", "you're", "we're", "they're", "it's", "that's", "there's", "I've", "we'll", "she'd", "he's", "let's"],
};

// Rare pseudo-words (syllable based) give the vocabulary a long tail, as real text has.
function pseudoWord(R) {
  const on = words("b br c cl d dr f fl g gr h j k l m n p pl pr qu r s sh st t th tr v w z");
  const nu = words("a e i o u ai ea ou io ie");
  const co = ["", "", "n", "r", "l", "s", "t", "m", "nd", "st", "ng", "rk"];
  let w = "";
  for (let i = R.range(2, 4); i > 0; i--) w += R.pick(on) + R.pick(nu) + R.pick(co);
  return w;
}

function enSentence(R) {
  const np = () => {
    let s = R.zipf(EN.det) + " ";
    if (R.chance(0.5)) s += R.zipf(EN.adj) + " ";
    if (R.chance(0.06)) s += pseudoWord(R) + " ";
    return s + R.zipf(EN.noun);
  };
  const subj = () => (R.chance(0.2) ? R.pick(EN.name) : R.chance(0.15) ? R.pick(EN.pron) : np());
  const cap = (s) => s[0].toUpperCase() + s.slice(1);
  let s;
  switch (R.int(8)) {
    case 0: s = `${subj()} ${R.zipf(EN.verb)} ${np()} ${R.zipf(EN.prep)} ${np()}`; break;
    case 1: s = `${subj()} ${R.zipf(EN.past)} ${np()} ${R.zipf(EN.adv)}`; break;
    case 2: s = `${R.pick(EN.contr)} not sure ${R.zipf(EN.conj) === "if" ? "if" : "whether"} ${np()} ${R.zipf(EN.verb)} ${np()}`; break;
    case 3: s = `${R.zipf(EN.adv)}, ${subj()} ${R.pick(EN.aux)} ${R.zipf(EN.verb).replace(/s$/, "")} ${np()}`; break;
    case 4: s = `In ${R.range(1900, 2030)}, ${R.pick(EN.name)} ${R.zipf(EN.past)} ${R.range(2, 999)} ${R.zipf(EN.noun)}s ${R.zipf(EN.prep)} ${R.pick(EN.place)}`; break;
    case 5: s = `"${cap(R.pick(EN.contr))} ${R.zipf(EN.adj)}," ${R.pick(EN.name)} said, "${R.zipf(EN.conj)} ${np()} ${R.zipf(EN.past)} ${np()}."`; return s;
    case 6: s = `${subj()} ${R.zipf(EN.past)} ${np()}, ${R.zipf(EN.conj)} ${subj()} ${R.zipf(EN.verb)} ${np()} ${R.zipf(EN.adv)}`; break;
    default: s = `About ${R.range(1, 99)}.${R.range(0, 9)}% of ${np()} ${R.zipf(EN.verb)} ${np()} (${R.zipf(EN.adj)} ${R.zipf(EN.noun)}s; ${R.zipf(EN.adv)})`;
  }
  return cap(s) + R.pick([".", ".", ".", ".", "!", "?", ";", "..."]);
}

function makeEnglish(R, target) {
  const parts = [];
  let bytes = 0;
  while (bytes < target) {
    let p = "";
    for (let i = R.range(3, 9); i > 0; i--) p += (p ? " " : "") + enSentence(R);
    p += "\n\n";
    parts.push(p);
    bytes += Buffer.byteLength(p, "utf8");
  }
  return parts.join("");
}

// ---------------------------------------------------------------------------
// Chinese.

const ZH = {
  noun: words(`我们 你们 他们 大家 朋友 老师 学生 孩子 父母 医生 工程师 城市 乡村 国家 世界 社会 公司 学校 医院 图书馆
    天气 阳光 雨水 河流 山脉 森林 花园 道路 桥梁 房子 窗户 桌子 电脑 手机 网络 数据 模型 程序 系统 问题 方法
    结果 时间 历史 文化 语言 文字 音乐 电影 书籍 故事 新闻 经济 市场 价格 技术 科学 研究 实验 能力 经验 机会
    计划 目标 方向 环境 资源 能源 交通 工作 生活 健康 教育 文化 艺术 传统 节日 春天 夏天 秋天 冬天 早晨 晚上
    周末 假期 旅行 火车 飞机 汽车 自行车 米饭 面条 茶叶 咖啡 水果 蔬菜 动物 小猫 小狗 鸟儿 鱼 树木 花朵 草地`),
  verb: words(`看到 听到 发现 认为 觉得 希望 需要 喜欢 学习 研究 讨论 解决 完成 开始 结束 提高 改善 发展 建设 保护
    支持 帮助 参加 组织 介绍 说明 分析 比较 计算 设计 使用 处理 准备 安排 决定 选择 接受 提出 表示 推动
    了解 掌握 改变 影响 创造 记录 整理 检查 修复 运行 测试 训练 部署 优化`),
  adj: words(`美丽 安静 热闹 重要 复杂 简单 困难 容易 新鲜 古老 现代 明亮 温暖 寒冷 快乐 认真 仔细 聪明 勇敢 普通
    特别 有趣 丰富 稳定 高效 可靠 清楚 准确 巨大 细小`),
  adv: words(`非常 十分 特别 已经 正在 一直 终于 仍然 马上 慢慢 渐渐 经常 总是 偶尔 也许 确实 其实 当然 一起 再次`),
  conn: words(`但是 因为 所以 而且 然后 如果 虽然 同时 此外 因此 不过 于是 接着 另外 总之`),
  time: words(`今天 明天 昨天 去年 今年 明年 上午 下午 晚上 最近 过去 将来 现在 那时 以前 以后`),
  place: words(`北京 上海 广州 深圳 杭州 成都 西安 南京 武汉 重庆 长江 黄河 泰山 西湖`),
  measure: words(`个 本 件 条 张 次 种 位 家 座`),
  particle: ["的", "了", "着", "过", "地", "得"],
  latin: ["GPU", "AI", "CPU", "API", "App", "Wi-Fi", "DNA", "5G", "USB", "Python"],
};

function zhNumber(R) {
  return R.chance(0.5) ? String(R.range(1, 2030)) : R.pick(words("一 两 三 四 五 六 七 八 九 十 几 百 千 万"));
}

function zhClause(R) {
  const np = () => (R.chance(0.4) ? R.zipf(ZH.adj) + "的" : "") + R.zipf(ZH.noun);
  switch (R.int(7)) {
    case 0: return `${R.pick(ZH.time)}${np()}${R.zipf(ZH.adv)}${R.zipf(ZH.verb)}了${np()}`;
    case 1: return `${np()}在${R.pick(ZH.place)}${R.zipf(ZH.verb)}${zhNumber(R)}${R.pick(ZH.measure)}${np()}`;
    case 2: return `${R.zipf(ZH.conn)}${np()}${R.zipf(ZH.adv)}${R.zipf(ZH.adj)}`;
    case 3: return `${np()}${R.zipf(ZH.verb)}${np()}的${R.zipf(ZH.noun)}`;
    case 4: return `用${R.pick(ZH.latin)}${R.zipf(ZH.verb)}${np()}`;
    case 5: return `“${np()}${R.zipf(ZH.adv)}${R.zipf(ZH.adj)}”`;
    default: return `${R.pick(ZH.time)}${R.zipf(ZH.verb)}${np()}、${np()}和${np()}`;
  }
}

function zhSentence(R) {
  let s = zhClause(R);
  for (let i = R.range(0, 3); i > 0; i--) s += R.pick(["，", "，", "，", "；", "："]) + zhClause(R);
  return s + R.pick(["。", "。", "。", "。", "！", "？", "……"]);
}

function makeChinese(R, target) {
  const parts = [];
  let bytes = 0;
  while (bytes < target) {
    let p = "";
    for (let i = R.range(3, 8); i > 0; i--) p += zhSentence(R);
    p += "\n\n";
    parts.push(p);
    bytes += Buffer.byteLength(p, "utf8");
  }
  return parts.join("");
}

// ---------------------------------------------------------------------------

mkdirSync(OUT_DIR, { recursive: true });
for (const [name, make, seed] of [
  ["bench-en.txt", makeEnglish, 0xbe7c_0e11],
  ["bench-zh.txt", makeChinese, 0xbe7c_2c4e],
]) {
  const text = make(makeRng(seed), TARGET_BYTES);
  const buf = Buffer.from(text, "utf8");
  const file = path.join(OUT_DIR, name);
  writeFileSync(file, buf);
  const sha = createHash("sha256").update(buf).digest("hex");
  console.log(`${file}: ${buf.length} bytes, ${Array.from(text).length} code points, sha256 ${sha}`);
}
