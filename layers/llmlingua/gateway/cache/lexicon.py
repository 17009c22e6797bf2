"""Word lists the semantic guards use: the slots where one word changes the answer.

Embeddings place "Translate to Spanish" and "Translate to German" at cosine 0.83 and "Convert 5 km
to miles" vs "5 miles to km" at 0.98; these lists name the words that must agree instead.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


FUNCTION_WORDS = frozenset(
    _words(
        """a an the of to in on at for from by with about as into onto over under and or but if
    then than so is are was were be been being am do does did done doing have has had
    having can could would should will shall may might must i me my mine you your yours he
    him his she her it its we us our they them their this that these those there here what
    which who whom whose when where why how whats please tell give show explain describe
    some any all each every more most very just really also way good make get let know
    want need like one ones thing things something someone much many im ive id youre
    theyre were weve lets ca wo sha"""
    )
)

NEGATIONS = frozenset(
    _words(
        """not no never none nobody nothing neither nor without cannot cant dont doesnt didnt
    isnt arent wasnt werent wont wouldnt shouldnt couldnt havent hasnt hadnt aint"""
    )
)

NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        _words(
            """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty"""
        )
    )
}
NUMBER_WORDS.update(
    {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
     "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
     "million": "1e6", "billion": "1e9", "trillion": "1e12", "half": "0.5", "dozen": "12"}
)  # fmt: skip
ORDINALS = {
    w: f"#{i}"
    for i, w in enumerate(
        _words("""zeroth first second third fourth fifth sixth seventh eighth ninth tenth""")
    )
    if i
}
ORDINALS.update({"last": "#last", "penultimate": "#-2"})

DATE_WORDS = frozenset(
    _words(
        """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday
    friday saturday sunday weekday weekend today tomorrow yesterday tonight morning
    afternoon evening night midnight noon spring summer autumn fall winter next previous
    upcoming recent recently current currently now"""
    )
) - {"may", "march", "fall", "mar"}  # too often verbs; months also arrive with digits

HUMAN_LANGUAGES = frozenset(
    _words(
        """english spanish german french italian portuguese dutch russian polish ukrainian czech
    slovak hungarian romanian bulgarian serbian croatian greek turkish arabic hebrew
    persian farsi hindi urdu bengali punjabi tamil telugu marathi chinese mandarin
    cantonese japanese korean vietnamese thai indonesian malay tagalog filipino swahili
    swedish norwegian danish finnish icelandic irish welsh latin esperanto catalan basque
    galician estonian latvian lithuanian afrikaans zulu amharic yoruba"""
    )
)
PROGRAMMING_LANGUAGES = frozenset(
    _words(
        """python javascript typescript java c c++ c# csharp golang rust ruby php swift kotlin
    scala bash shell powershell sql html css perl haskell lua dart elixir erlang julia
    matlab fortran cobol clojure groovy objective-c zig nim ocaml f# vb.net vba solidity"""
    )
)

_UNITS = {
    "km": "km kilometer kilometers kilometre kilometres kms",
    "mi": "mile miles",
    "m": "meter meters metre metres",
    "cm": "cm centimeter centimeters centimetre centimetres",
    "mm": "mm millimeter millimeters millimetre millimetres",
    "in": "inch inches",
    "ft": "ft foot feet",
    "yd": "yard yards yd",
    "kg": "kg kgs kilogram kilograms kilo kilos",
    "g": "gram grams",
    "lb": "lb lbs pound pounds",
    "oz": "oz ounce ounces",
    "t": "ton tons tonne tonnes",
    "l": "liter liters litre litres",
    "ml": "ml milliliter milliliters millilitre millilitres",
    "gal": "gallon gallons",
    "qt": "quart quarts",
    "pt": "pint pints",
    "cup": "cup cups",
    "tbsp": "tablespoon tablespoons tbsp",
    "tsp": "teaspoon teaspoons tsp",
    "degc": "celsius centigrade",
    "degf": "fahrenheit",
    "degk": "kelvin",
    "s": "second seconds sec secs",
    "min": "minute minutes mins",
    "h": "hour hours hr hrs",
    "day": "day days",
    "week": "week weeks",
    "month": "month months",
    "year": "year years",
    "mph": "mph",
    "kmh": "km/h kph kmh",
    "byte": "byte bytes",
    "kb": "kb kilobyte kilobytes",
    "mb": "mb megabyte megabytes",
    "gb": "gb gigabyte gigabytes",
    "tb": "tb terabyte terabytes",
    "pct": "percent percentage % pct",
    "usd": "usd dollar dollars $",
    "eur": "eur euro euros €",
    "gbp": "gbp sterling £",
    "jpy": "jpy yen ¥",
    "btc": "btc bitcoin bitcoins",
    "w": "watt watts",
    "kwh": "kwh kilowatt-hour",
    "cal": "calorie calories kcal",
}
UNITS = {word: unit for unit, words in _UNITS.items() for word in words.split()}

# Question words whose answer type differs; "what", "which" and a bare "how" say nothing.
QUESTION_CLASSES = {
    "who": "person", "whom": "person", "whose": "person", "when": "time", "where": "place",
    "why": "reason", "how many": "count", "how much": "amount", "how long": "duration",
    "how old": "age", "how tall": "size", "how big": "size", "how far": "distance",
    "what year": "time", "what time": "time", "what date": "time", "which year": "time",
}  # fmt: skip

# Pairs of opposites: a request with one side must not be answered by one with the other.
_OPPOSITES = _words(
    """advantage/disadvantage advantages/disadvantages pro/con pros/cons benefit/drawback
    benefits/drawbacks strength/weakness strengths/weaknesses increase/decrease
    raise/lower up/down more/less most/least higher/lower highest/lowest largest/smallest
    biggest/smallest big/small large/small long/short longest/shortest tall/short
    tallest/shortest hot/cold hottest/coldest warm/cool fast/slow fastest/slowest
    early/late before/after above/below over/under inside/outside maximum/minimum max/min
    best/worst better/worse good/bad buy/sell import/export upload/download
    encrypt/decrypt compress/decompress enable/disable install/uninstall add/remove
    add/drop create/delete open/close start/stop start/end begin/end win/lose gain/lose
    true/false yes/no on/off in/out left/right north/south east/west ascending/descending
    asc/desc oldest/newest old/new older/newer oldest/youngest old/young first/last
    push/pull include/exclude accept/reject allow/deny agree/disagree like/dislike
    love/hate positive/negative plus/minus rich/poor cheap/expensive
    cheapest/most-expensive legal/illegal safe/unsafe possible/impossible
    healthy/unhealthy read/write send/receive input/output mount/unmount lock/unlock
    connect/disconnect subscribe/unsubscribe follow/unfollow encode/decode
    serialize/deserialize zip/unzip attach/detach freeze/unfreeze inhale/exhale
    arrive/depart cause/effect causes/effects causes/consequences"""
)
OPPOSITES: dict[str, tuple[int, int]] = {}
for _index, _pair in enumerate(_OPPOSITES):
    _left, _right = _pair.split("/")
    OPPOSITES.setdefault(_left, (_index, 0))
    OPPOSITES.setdefault(_right, (_index, 1))

# Stopword profiles for telling the language a prompt is written in.
LANGUAGE_MARKERS = {
    "en": "the is are what how why who you your of and to in it this that with for do does can",
    "es": "el la los las es son qué que cómo cuál por para con una uno del se mi tu está",
    "de": "der die das ist sind was wie warum wer ich du und nicht mit für ein eine ein mir es",
    "fr": "le la les est sont que quel quelle comment pourquoi qui je tu et avec pour une des il",
    "it": "il lo la gli le è sono che come perché chi io tu con per una del si fa",
    "pt": "os as é são que como porque quem eu você com para uma do da não",
    "nl": "de het een is zijn wat hoe waarom wie ik jij en met voor niet van",
}
