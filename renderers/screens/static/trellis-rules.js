/* Trellis form rules in the browser: evaluates the checked expression trees the server sends with a form
   (renderers/screens/layouts.py compiles them) on every input, to show or hide a field, mark it required
   and make it read-only, without a round trip. It follows the blank rules of trellis.metadata.expressions
   exactly as the Python evaluator does; tests/browser/test_forms_browser.py holds the two to the same
   answers. Values: numbers as JS numbers, dates as day numbers since 1970-01-01, date-times as epoch
   milliseconds (UTC), a blank as null. Only the functions of trellis.metadata.layouts.BROWSER_FUNCTIONS
   exist here; metadata validation refuses the others in form rules. */
(function () {
  "use strict";
  var DAY = 86400000;
  var FIRST_DAY = -719162, LAST_DAY = 2932896;  // 0001-01-01 and 9999-12-31
  var NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

  function pad(n, width) { var s = String(n); while (s.length < width) { s = "0" + s; } return s; }
  function blank(v) { return v === null || v === undefined || v === ""; }
  function inRange(day) { return day !== null && day >= FIRST_DAY && day <= LAST_DAY ? day : null; }

  function dayOf(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text || "");
    if (!m) { return null; }
    var d = new Date(0);
    d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
    return Math.round(d.getTime() / DAY);
  }
  function msOf(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(text || "");
    if (!m) { return null; }
    var d = new Date(0);
    d.setUTCFullYear(+m[1], +m[2] - 1, +m[3]);
    d.setUTCHours(+(m[4] || 0), +(m[5] || 0), +(m[6] || 0), 0);
    return d.getTime();
  }
  function isoDay(day) {
    var d = new Date(day * DAY);
    return pad(d.getUTCFullYear(), 4) + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2);
  }
  function isoMoment(ms) {
    var d = new Date(ms);
    return isoDay(Math.floor(ms / DAY)) + " " + pad(d.getUTCHours(), 2) + ":" + pad(d.getUTCMinutes(), 2) + ":" +
      pad(d.getUTCSeconds(), 2);
  }
  function toDay(v, type) { return v === null ? null : (type === "datetime" ? Math.floor(v / DAY) : v); }
  function fromJson(v, type) {
    if (v === null || v === undefined) { return null; }
    if (type === "date") { return typeof v === "number" ? v : dayOf(v); }
    if (type === "datetime") { return typeof v === "number" ? v : msOf(v); }
    return v;
  }
  function numberText(n) {
    if (Object.is(n, -0) || n === 0) { return "0"; }
    var s = String(n);
    return /e/i.test(s) ? n.toFixed(20).replace(/\.?0+$/, "") : s;
  }
  function round(n, digits) {
    var scale = Math.pow(10, digits);
    var scaled = parseFloat((Math.abs(n) * scale).toPrecision(15));
    return (n < 0 ? -1 : 1) * Math.round(scaled) / scale;
  }
  function compare(op, a, b) {
    switch (op) {
      case "=": return a === b;
      case "!=": return a !== b;
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      default: return a >= b;
    }
  }

  function Evaluator(read, context) {
    this.read = read;
    var now = context && context.now !== undefined ? context.now : Date.now();
    this.now = now;
    this.today = Math.floor(now / DAY);
  }
  Evaluator.prototype.cond = function (node) { return this.value(node) === true; };
  Evaluator.prototype.value = function (node) {
    switch (node.k) {
      case "lit": return fromJson(node.v, node.t);
      case "field": return this.read(node.n, node.t);
      case "un":
        if (node.op === "NOT") { return !this.cond(node.a); }
        var operand = this.value(node.a);
        return operand === null ? null : -operand;
      case "bin": return this.binary(node);
      case "in": return this.inList(node);
      default: return this.call(node);
    }
  };
  Evaluator.prototype.binary = function (node) {
    if (node.op === "AND") { return this.cond(node.l) && this.cond(node.r); }
    if (node.op === "OR") { return this.cond(node.l) || this.cond(node.r); }
    var left = this.value(node.l), right = this.value(node.r);
    if (node.op === "&") { return (left === null ? "" : left) + (right === null ? "" : right); }
    var arithmetic = "+-*/".indexOf(node.op) >= 0;
    if (left === null || right === null) { return arithmetic ? null : false; }
    if (node.op === "/") { return right === 0 ? null : left / right; }
    if (node.op === "+") { return left + right; }
    if (node.op === "-") { return left - right; }
    if (node.op === "*") { return left * right; }
    return compare(node.op, left, right);
  };
  Evaluator.prototype.inList = function (node) {
    var subject = this.value(node.v);
    if (subject === null) { return false; }
    for (var i = 0; i < node.items.length; i++) {
      var item = this.value(node.items[i]);
      if (item !== null && item === subject) { return true; }
    }
    return false;
  };
  Evaluator.prototype.call = function (node) {
    var self = this, args = node.args;
    function arg(i) { return self.value(args[i]); }
    function type(i) { return args[i].t; }
    var fn = FUNCTIONS[node.f];
    if (!fn) { throw new Error("The browser cannot evaluate " + node.f); }
    return fn(arg, type, args.length, self, args);
  };

  function text1(f) { return function (arg) { var t = arg(0); return t === null ? null : f(t); }; }
  function trunc(n) { return n < 0 ? Math.ceil(n) : Math.floor(n); }

  var FUNCTIONS = {
    IF: function (arg, type, n, ev, args) { return ev.cond(args[0]) ? arg(1) : arg(2); },
    CASE: function (arg, type, n) {
      var subject = arg(0);
      if (subject !== null) {
        for (var i = 1; i < n - 1; i += 2) { if (arg(i) === subject) { return arg(i + 1); } }
      }
      return arg(n - 1);
    },
    ISBLANK: function (arg) { return blank(arg(0)); },
    BLANKVALUE: function (arg) { var v = arg(0); return blank(v) ? arg(1) : v; },
    TODAY: function (arg, type, n, ev) { return ev.today; },
    NOW: function (arg, type, n, ev) { return ev.now; },
    DATE: function (arg) {
      var y = arg(0), m = arg(1), d = arg(2);
      if (y === null || m === null || d === null) { return null; }
      y = trunc(y); m = trunc(m); d = trunc(d);
      if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) { return null; }
      var day = dayOf(pad(y, 4) + "-" + pad(m, 2) + "-01") + d - 1;
      return new Date(day * DAY).getUTCMonth() + 1 === m ? day : null;
    },
    YEAR: function (arg, type) {
      var day = toDay(arg(0), type(0));
      return day === null ? null : new Date(day * DAY).getUTCFullYear();
    },
    MONTH: function (arg, type) {
      var day = toDay(arg(0), type(0));
      return day === null ? null : new Date(day * DAY).getUTCMonth() + 1;
    },
    DAYS_BETWEEN: function (arg, type) {
      var start = toDay(arg(0), type(0)), end = toDay(arg(1), type(1));
      return start === null || end === null ? null : end - start;
    },
    ADD_DAYS: function (arg) {
      var day = arg(0), count = arg(1);
      return day === null || count === null ? null : inRange(day + trunc(count));
    },
    TEXT: function (arg, type) {
      var v = arg(0), t = type(0);
      if (v === null || typeof v === "string") { return v; }
      if (typeof v === "boolean") { return v ? "true" : "false"; }
      if (t === "date") { return isoDay(v); }
      if (t === "datetime") { return isoMoment(v); }
      return numberText(v);
    },
    VALUE: function (arg) { var t = arg(0); return t !== null && NUMBER.test(t) ? parseFloat(t) : null; },
    CONCAT: function (arg, type, n) {
      var out = "";
      for (var i = 0; i < n; i++) { var v = arg(i); out += v === null ? "" : v; }
      return out;
    },
    LEFT: function (arg) {
      var t = arg(0), count = arg(1);
      if (t === null || count === null || trunc(count) < 0) { return null; }
      return Array.from(t).slice(0, trunc(count)).join("");
    },
    RIGHT: function (arg) {
      var t = arg(0), count = arg(1);
      if (t === null || count === null || trunc(count) < 0) { return null; }
      var chars = Array.from(t);
      return chars.slice(Math.max(chars.length - trunc(count), 0)).join("");
    },
    LEN: function (arg) { var t = arg(0); return t === null ? 0 : Array.from(t).length; },
    UPPER: text1(function (t) { return t.toUpperCase(); }),
    LOWER: text1(function (t) { return t.toLowerCase(); }),
    CONTAINS: function (arg) { var t = arg(0), part = arg(1); return t !== null && part !== null && t.indexOf(part) >= 0; },
    ROUND: function (arg, type, n) {
      var v = arg(0), digits = n > 1 ? arg(1) : 0;
      if (v === null || digits === null) { return null; }
      return round(v, Math.min(Math.max(trunc(digits), 0), 10));
    },
    ABS: function (arg) { var v = arg(0); return v === null ? null : Math.abs(v); },
    MIN: function (arg, type, n) { return extreme(arg, n, function (a, b) { return a < b; }); },
    MAX: function (arg, type, n) { return extreme(arg, n, function (a, b) { return a > b; }); }
  };
  function extreme(arg, n, better) {
    var found = null;
    for (var i = 0; i < n; i++) { var v = arg(i); if (v !== null && (found === null || better(v, found))) { found = v; } }
    return found;
  }

  /* -- reading the form ---------------------------------------------------------------------------- */

  function readInput(input, type) {
    if (input.type === "checkbox") { return input.checked; }
    var raw = (input.value || "").trim();
    if (raw === "") { return null; }
    if (type === "number") { var n = Number(raw); return isNaN(n) ? null : n; }
    if (type === "date") { return dayOf(raw); }
    if (type === "datetime") { return msOf(raw); }
    if (type === "boolean") { return raw === "y" || raw === "true" || raw === "on"; }
    return raw;
  }

  function bind(spec) {
    var first = spec.fields.length ? document.getElementById(spec.fields[0].field) : null;
    var form = first ? first.form || first.closest("form") : document.querySelector("form.admin-form");
    if (!form) { return; }
    function read(name, type) {
      var input = form.querySelector('[name="' + name + '"]');
      return input ? readInput(input, type) : fromJson(spec.values[name], type);
    }
    function marker(group) {
      var label = group.querySelector("label");
      var mark = group.querySelector(".trellis-required-mark");
      if (!mark && label) {
        mark = document.createElement("strong");
        mark.className = "text-danger trellis-required-mark";
        mark.textContent = "*";
        label.appendChild(mark);
      }
      return mark;
    }
    function run() {
      var ev = new Evaluator(read, {now: spec.now});
      spec.fields.forEach(function (rule) {
        var group = form.querySelector('[data-trellis-field="' + rule.field + '"]');
        var input = form.querySelector('[name="' + rule.field + '"]');
        if (!group) { return; }
        var visible = rule.visible ? ev.cond(rule.visible) : true;
        var required = visible && (rule.required === true || (rule.required_if ? ev.cond(rule.required_if) : false));
        var readonly = rule.readonly_if ? ev.cond(rule.readonly_if) : false;
        group.hidden = !visible;
        group.setAttribute("data-trellis-visible", visible ? "true" : "false");
        var mark = rule.always_required ? null : marker(group);
        if (mark) { mark.hidden = !required; }
        if (input) {
          input.required = visible && (required || rule.always_required === true);
          input.readOnly = readonly;
          input.setAttribute("aria-readonly", readonly ? "true" : "false");
        }
        group.classList.toggle("trellis-readonly", readonly);
      });
    }
    form.addEventListener("input", run);
    form.addEventListener("change", run);
    if (window.jQuery) { window.jQuery(form).on("change", run); }  // Select2 lookups announce through jQuery
    run();
  }

  window.TrellisRules = {
    evaluate: function (tree, values, context) {
      var read = function (name, type) { return fromJson(values[name], type); };
      return new Evaluator(read, context).value(tree);
    },
    text: function (value, type) { return value === null ? null : FUNCTIONS.TEXT(function () { return value; },
                                                                               function () { return type; }); },
    bind: bind
  };

  document.addEventListener("DOMContentLoaded", function () {
    var data = document.getElementById("trellis-form-rules");
    if (data) { bind(JSON.parse(data.textContent)); }
  });
}());
