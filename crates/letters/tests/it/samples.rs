//! One short letter per contact language: the same welcome, an address and a phone number,
//! as test input (these are not the seeded templates, nor reviewed translations).
//!
//! The Arabic-script samples are written without vowel marks, as letters usually are:
//! pdftotext moves marks of right-to-left text out of place (see `readback`), which the
//! shaping itself does not (`marks_are_shaped_onto_their_letters`).

/// A contact language's sample: its code, a name to address, a heading and paragraphs.
pub struct Sample {
    pub lang: &'static str,
    pub name: &'static str,
    pub heading: &'static str,
    pub paragraphs: &'static [&'static str],
}

pub const SAMPLES: &[Sample] = &[
    Sample {
        lang: "nl",
        name: "Ayşe Yılmaz",
        heading: "Welkom in Vlaanderen",
        paragraphs: &[
            "Beste Ayşe Yılmaz, u woont sinds kort in Gent. Wij nodigen u uit voor een gratis gesprek over inburgering: Nederlands leren, werk zoeken en uw weg vinden in uw gemeente.",
            "Kom langs in ons kantoor, Kerkstraat 14, 9000 Gent, van maandag tot vrijdag van 9 tot 12 uur, of bel 09 123 45 67.",
        ],
    },
    Sample {
        lang: "ar",
        name: "ليلى الحسن",
        heading: "مرحبا بكم في فلاندرن",
        paragraphs: &[
            "عزيزتي ليلى الحسن، انتقلت مؤخرا للسكن في خنت. ندعوك إلى محادثة مجانية حول الاندماج المدني: تعلم اللغة الهولندية، والبحث عن عمل، والتعرف على بلديتك.",
            "تفضلي بزيارة مكتبنا في Kerkstraat 14, 9000 Gent، من الاثنين إلى الجمعة من الساعة 9 إلى 12، أو اتصلي بالرقم 09 123 45 67.",
        ],
    },
    Sample {
        lang: "fa",
        name: "مریم احمدی",
        heading: "به فلاندر خوش آمدید",
        paragraphs: &[
            "خانم مریم احمدی گرامی، شما به‌تازگی به گنت نقل مکان کرده‌اید. شما را به یک گفت‌وگوی رایگان درباره هم‌پذیری دعوت می‌کنیم: یادگیری زبان هلندی، پیدا کردن کار و آشنایی با شهرداری.",
            "به دفتر ما در Kerkstraat 14, 9000 Gent بیایید، دوشنبه تا جمعه از ساعت ۹ تا ۱۲، یا با شماره 09 123 45 67 تماس بگیرید.",
        ],
    },
    Sample {
        lang: "prs",
        name: "احمد شاه کریمی",
        heading: "به فلاندرز خوش آمدید",
        paragraphs: &[
            "محترم احمد شاه کریمی، شما به تازگی به شهر گنت کوچ کرده‌اید. ما شما را به یک گفتگوی رایگان در مورد مدغم شدن در جامعه دعوت می‌کنیم: آموختن زبان هالندی، پیدا کردن کار و آشنایی با شاروالی.",
            "به دفتر ما در Kerkstraat 14, 9000 Gent تشریف بیاورید، از دوشنبه تا جمعه از ساعت ۹ الی ۱۲، یا به شماره 09 123 45 67 زنگ بزنید.",
        ],
    },
    Sample {
        lang: "ps",
        name: "ګل احمد زی",
        heading: "فلانډرز ته ښه راغلاست",
        paragraphs: &[
            "درنه ګل احمد زی، تاسو پدې وروستیو کې ګنټ ته کډه شوي یاست. موږ تاسو د ټولنې سره د یوځای کېدو په اړه وړیا خبرو ته رابولو: د هالنډي ژبې زده کړه، د کار موندل او په خپله ښاروالۍ کې لاره موندل.",
            "زموږ دفتر ته راشئ، Kerkstraat 14, 9000 Gent، له دوشنبې تر جمعې د ۹ څخه تر ۱۲ بجو پورې، یا 09 123 45 67 شمېرې ته زنګ ووهئ.",
        ],
    },
    Sample {
        lang: "uk",
        name: "Олена Коваленко",
        heading: "Ласкаво просимо до Фландрії",
        paragraphs: &[
            "Шановна пані Олено Коваленко, ви нещодавно переїхали до Гента. Запрошуємо вас на безкоштовну розмову про інтеграцію: вивчення нідерландської мови, пошук роботи та орієнтування у вашій громаді.",
            "Приходьте до нашого офісу за адресою Kerkstraat 14, 9000 Gent, з понеділка по п’ятницю з 9 до 12 години, або телефонуйте за номером 09 123 45 67.",
        ],
    },
    Sample {
        lang: "ru",
        name: "Иван Петров",
        heading: "Добро пожаловать во Фландрию",
        paragraphs: &[
            "Уважаемый Иван Петров, вы недавно переехали в Гент. Приглашаем вас на бесплатную беседу об интеграции: изучение нидерландского языка, поиск работы и жизнь в вашей общине.",
            "Приходите в наш офис по адресу Kerkstraat 14, 9000 Gent, с понедельника по пятницу с 9 до 12 часов, или звоните по номеру 09 123 45 67.",
        ],
    },
    Sample {
        lang: "ti",
        name: "ሳባ ተስፋይ",
        heading: "ናብ ፍላንደርስ እንቋዕ ብደሓን መጻእኩም",
        paragraphs: &[
            "ክብርቲ ወይዘሮ ሳባ ተስፋይ፡ ቀረባ እዋን ናብ ኸንት ገዓዝኪ። ብዛዕባ ምውህሃድ ናብ ናጻ ዘተ ንዕድመኪ፡ ቋንቋ ሆላንድ ምምሃር፡ ስራሕ ምድላይን ኣብ ምምሕዳርኪ መገድኺ ምርካብን።",
            "ናብ ቤት ጽሕፈትና ኣብ Kerkstraat 14, 9000 Gent ምጽኢ፡ ካብ ሰኑይ ክሳብ ዓርቢ ካብ ሰዓት 9 ክሳብ 12፡ ወይ ናብ 09 123 45 67 ደውሊ።",
        ],
    },
    Sample {
        lang: "tr",
        name: "Ayşe Yılmaz",
        heading: "Flaman Bölgesi’ne hoş geldiniz",
        paragraphs: &[
            "Sayın Ayşe Yılmaz, kısa süre önce Gent’e taşındınız. Sizi uyum süreci hakkında ücretsiz bir görüşmeye davet ediyoruz: Felemenkçe öğrenmek, iş bulmak ve belediyenizde yolunuzu bulmak için.",
            "Pazartesiden cumaya saat 9 ile 12 arasında Kerkstraat 14, 9000 Gent adresindeki ofisimize uğrayın veya 09 123 45 67 numarasını arayın.",
        ],
    },
    Sample {
        lang: "ro",
        name: "Ștefania Țurcanu",
        heading: "Bine ați venit în Flandra",
        paragraphs: &[
            "Stimată doamnă Ștefania Țurcanu, v-ați mutat de curând în Gent. Vă invităm la o discuție gratuită despre integrare: învățarea limbii neerlandeze, găsirea unui loc de muncă și orientarea în comuna dumneavoastră.",
            "Veniți la biroul nostru, Kerkstraat 14, 9000 Gent, de luni până vineri între orele 9 și 12, sau sunați la 09 123 45 67.",
        ],
    },
    Sample {
        lang: "pl",
        name: "Łukasz Wójcik",
        heading: "Witamy we Flandrii",
        paragraphs: &[
            "Szanowny Panie Łukaszu Wójcik, niedawno przeprowadził się Pan do Gandawy. Zapraszamy na bezpłatną rozmowę o integracji: nauka niderlandzkiego, szukanie pracy i odnalezienie się w gminie.",
            "Prosimy odwiedzić nasze biuro, Kerkstraat 14, 9000 Gent, od poniedziałku do piątku w godzinach od 9 do 12, lub zadzwonić pod numer 09 123 45 67.",
        ],
    },
    Sample {
        lang: "bg",
        name: "Мария Георгиева",
        heading: "Добре дошли във Фландрия",
        paragraphs: &[
            "Уважаема госпожо Мария Георгиева, наскоро се преместихте в Гент. Каним Ви на безплатен разговор за интеграция: изучаване на нидерландски език, търсене на работа и ориентиране във Вашата община.",
            "Заповядайте в нашия офис на адрес Kerkstraat 14, 9000 Gent, от понеделник до петък от 9 до 12 часа, или се обадете на 09 123 45 67.",
        ],
    },
    Sample {
        lang: "so",
        name: "Cabdi Xasan",
        heading: "Ku soo dhawoow Flanders",
        paragraphs: &[
            "Mudane Cabdi Xasan, dhawaan ayaad u soo guurtay Gent. Waxaan kuugu yeeraynaa wada-hadal bilaash ah oo ku saabsan is-dhexgalka: barashada luqadda Nederlandka, raadinta shaqo iyo hagitaanka degmadaada.",
            "Booqo xafiiskeenna, Kerkstraat 14, 9000 Gent, Isniin ilaa Jimce saacadda 9 ilaa 12, ama wac 09 123 45 67.",
        ],
    },
    Sample {
        lang: "en",
        name: "John Smith",
        heading: "Welcome to Flanders",
        paragraphs: &[
            "Dear John Smith, you recently moved to Ghent. We invite you to a free conversation about civic integration: learning Dutch, finding work and finding your way in your municipality.",
            "Visit our office at Kerkstraat 14, 9000 Gent, Monday to Friday from 9 to 12, or call 09 123 45 67.",
        ],
    },
    Sample {
        lang: "fr",
        name: "Éléonore Dubois",
        heading: "Bienvenue en Flandre",
        paragraphs: &[
            "Chère Madame Éléonore Dubois, vous habitez depuis peu à Gand. Nous vous invitons à un entretien gratuit sur l’intégration civique : apprendre le néerlandais, trouver du travail et vous orienter dans votre commune.",
            "Passez à notre bureau, Kerkstraat 14, 9000 Gent, du lundi au vendredi de 9 à 12 heures, ou appelez le 09 123 45 67.",
        ],
    },
];

/// The sample of `lang`.
pub fn sample(lang: &str) -> &'static Sample {
    SAMPLES
        .iter()
        .find(|s| s.lang == lang)
        .expect("a sample for every contact language tested")
}
