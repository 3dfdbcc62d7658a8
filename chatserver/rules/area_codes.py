"""US area codes by state, territory and the District of Columbia.

The geographic area codes NANPA has put in service, as ``phonenumbers``'
geocoder carries them at area-code level (tests/rules checks that the two still
agree, so a new overlay in a phonenumbers update shows up as a failing test);
Florida's, Oklahoma's, Maryland's and Texas's were checked by hand. Toll-free
(8XX), premium (900), personal (5XX) and other non-geographic codes are left out
on purpose: they say nothing about where the lead lives. So are Canada's and
the Caribbean countries' codes: they are not US jurisdictions.

An area code is only a presumption of where a lead lives: Florida's law
(Fla. Stat. 501.059(8)(b)) and Oklahoma's (Telephone Solicitation Act of
2022) say so in terms; for the other states it is this product's policy.
New overlays are added here when NANPA announces them.
"""

from __future__ import annotations

# Two-letter codes of the jurisdictions below (USPS abbreviations).
NAMES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "AS": "American Samoa",
}

_BY_STATE: dict[str, str] = {
    "AL": "205 251 256 334 659 938",  # Alabama
    "AK": "907",  # Alaska
    "AS": "684",  # American Samoa
    "AZ": "480 520 602 623 928",  # Arizona
    "AR": "327 479 501 870",  # Arkansas
    # California
    "CA": (
        "209 213 279 310 323 341 350 369 408 415 424 442 510 530 559 562 619 626 628 "
        "650 657 661 669 707 714 738 747 760 805 818 820 831 840 858 909 916 925 949 "
        "951"
    ),
    "CO": "303 719 720 748 970 983",  # Colorado
    "CT": "203 475 860 959",  # Connecticut
    "DE": "302",  # Delaware
    "DC": "202 771",  # District of Columbia
    # Florida
    "FL": (
        "239 305 321 324 352 386 407 448 561 645 656 689 727 728 754 772 786 813 850 "
        "863 904 941 954"
    ),
    "GA": "229 404 470 478 678 706 762 770 912 943",  # Georgia
    "GU": "671",  # Guam
    "HI": "808",  # Hawaii
    "ID": "208 986",  # Idaho
    "IL": "217 224 309 312 331 447 464 618 630 708 730 773 779 815 847 872",  # Illinois
    "IN": "219 260 317 463 574 765 812 930",  # Indiana
    "IA": "319 515 563 641 712",  # Iowa
    "KS": "316 620 785 913",  # Kansas
    "KY": "270 364 502 606 859",  # Kentucky
    "LA": "225 318 337 504 985",  # Louisiana
    "ME": "207",  # Maine
    "MD": "227 240 301 410 443 667",  # Maryland
    "MA": "339 351 413 508 617 774 781 857 978",  # Massachusetts
    "MI": "231 248 269 313 517 586 616 734 810 906 947 989",  # Michigan
    "MN": "218 320 507 612 651 763 952",  # Minnesota
    "MS": "228 601 662 769",  # Mississippi
    "MO": "235 314 417 557 573 636 660 816 975",  # Missouri
    "MT": "406",  # Montana
    "NE": "308 402 531",  # Nebraska
    "NV": "702 725 775",  # Nevada
    "NH": "603",  # New Hampshire
    "NJ": "201 551 609 640 732 848 856 862 908 973",  # New Jersey
    "NM": "505 575",  # New Mexico
    # New York
    "NY": (
        "212 315 329 332 347 363 516 518 585 607 631 646 680 716 718 838 845 914 917 "
        "929 934"
    ),
    "NC": "252 336 472 704 743 828 910 919 980 984",  # North Carolina
    "ND": "701",  # North Dakota
    "MP": "670",  # Northern Mariana Islands
    "OH": "216 220 234 283 326 330 380 419 440 513 567 614 740 937",  # Ohio
    "OK": "405 539 572 580 918",  # Oklahoma
    "OR": "458 503 541 971",  # Oregon
    "PA": "215 223 267 272 412 445 484 570 582 610 717 724 814 835 878",  # Pennsylvania
    "PR": "787 939",  # Puerto Rico
    "RI": "401",  # Rhode Island
    "SC": "803 821 839 843 854 864",  # South Carolina
    "SD": "605",  # South Dakota
    "TN": "423 615 629 731 865 901 931",  # Tennessee
    # Texas
    "TX": (
        "210 214 254 281 325 346 361 409 430 432 469 512 682 713 726 737 806 817 830 "
        "832 903 915 936 940 945 956 972 979"
    ),
    "VI": "340",  # U.S. Virgin Islands
    "UT": "385 435 801",  # Utah
    "VT": "802",  # Vermont
    "VA": "276 434 540 571 686 703 757 804 826 948",  # Virginia
    "WA": "206 253 360 425 509 564",  # Washington
    "WV": "304 681",  # West Virginia
    "WI": "262 274 353 414 534 608 715 920",  # Wisconsin
    "WY": "307",  # Wyoming
}

AREA_CODES: dict[str, str] = {
    code: state for state, codes in _BY_STATE.items() for code in codes.split()
}
