"""Reference levels the simulator starts a day from: index levels and a liquid NSE stock list.

Levels are rounded late-2025 values, good enough for realistic prices, tick sizes and margins; the
simulator moves each day's open away from them deterministically (seed, date).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IndexProfile:
    level: float  # rupees
    annual_vol: float  # realised, as a fraction
    atm_iv: float  # implied, as a fraction
    put_skew: float  # IV change per unit of log-moneyness (negative: puts richer)
    smile: float  # IV curvature per unit of log-moneyness squared


INDEX_PROFILES: dict[str, IndexProfile] = {
    "NIFTY": IndexProfile(26_000.0, 0.13, 0.12, -0.35, 2.5),
    "BANKNIFTY": IndexProfile(59_000.0, 0.15, 0.135, -0.30, 2.2),
    "FINNIFTY": IndexProfile(27_500.0, 0.14, 0.13, -0.30, 2.2),
    "MIDCPNIFTY": IndexProfile(13_500.0, 0.17, 0.15, -0.30, 2.2),
}


@dataclass(frozen=True, slots=True)
class StockProfile:
    name: str
    price: float  # rupees
    beta: float  # to NIFTY
    idio_vol: float  # annual idiosyncratic volatility


STOCKS: dict[str, StockProfile] = {
    "RELIANCE": StockProfile("RELIANCE INDUSTRIES", 1510.0, 1.05, 0.18),
    "HDFCBANK": StockProfile("HDFC BANK", 990.0, 0.95, 0.15),
    "ICICIBANK": StockProfile("ICICI BANK", 1380.0, 1.05, 0.17),
    "INFY": StockProfile("INFOSYS", 1550.0, 0.85, 0.20),
    "TCS": StockProfile("TATA CONSULTANCY SERV", 3100.0, 0.75, 0.18),
    "SBIN": StockProfile("STATE BANK OF INDIA", 950.0, 1.20, 0.20),
    "BHARTIARTL": StockProfile("BHARTI AIRTEL", 2100.0, 0.80, 0.17),
    "ITC": StockProfile("ITC", 410.0, 0.60, 0.16),
    "LT": StockProfile("LARSEN & TOUBRO", 4000.0, 1.10, 0.19),
    "KOTAKBANK": StockProfile("KOTAK MAHINDRA BANK", 2100.0, 0.95, 0.18),
    "AXISBANK": StockProfile("AXIS BANK", 1250.0, 1.15, 0.20),
    "HINDUNILVR": StockProfile("HINDUSTAN UNILEVER", 2400.0, 0.55, 0.16),
    "BAJFINANCE": StockProfile("BAJAJ FINANCE", 1000.0, 1.30, 0.24),
    "MARUTI": StockProfile("MARUTI SUZUKI INDIA", 16000.0, 0.85, 0.19),
    "SUNPHARMA": StockProfile("SUN PHARMACEUTICAL IND", 1750.0, 0.55, 0.18),
    "M&M": StockProfile("MAHINDRA & MAHINDRA", 3600.0, 1.10, 0.22),
    "TITAN": StockProfile("TITAN COMPANY", 3800.0, 0.90, 0.20),
    "NTPC": StockProfile("NTPC", 330.0, 0.95, 0.20),
    "POWERGRID": StockProfile("POWER GRID CORP", 280.0, 0.80, 0.18),
    "ONGC": StockProfile("OIL AND NATURAL GAS CORP", 245.0, 1.00, 0.24),
    "TATASTEEL": StockProfile("TATA STEEL", 170.0, 1.35, 0.27),
    "JSWSTEEL": StockProfile("JSW STEEL", 1150.0, 1.25, 0.25),
    "HCLTECH": StockProfile("HCL TECHNOLOGIES", 1600.0, 0.80, 0.20),
    "WIPRO": StockProfile("WIPRO", 245.0, 0.80, 0.21),
    "TECHM": StockProfile("TECH MAHINDRA", 1500.0, 0.90, 0.23),
    "ULTRACEMCO": StockProfile("ULTRATECH CEMENT", 11800.0, 0.85, 0.19),
    "ASIANPAINT": StockProfile("ASIAN PAINTS", 2800.0, 0.65, 0.20),
    "NESTLEIND": StockProfile("NESTLE INDIA", 1250.0, 0.50, 0.16),
    "ADANIENT": StockProfile("ADANI ENTERPRISES", 2400.0, 1.40, 0.35),
    "ADANIPORTS": StockProfile("ADANI PORTS AND SEZ", 1450.0, 1.30, 0.30),
    "COALINDIA": StockProfile("COAL INDIA", 380.0, 0.90, 0.22),
    "BAJAJFINSV": StockProfile("BAJAJ FINSERV", 2000.0, 1.15, 0.22),
    "BAJAJ-AUTO": StockProfile("BAJAJ AUTO", 9000.0, 0.80, 0.20),
    "EICHERMOT": StockProfile("EICHER MOTORS", 7000.0, 0.85, 0.22),
    "HINDALCO": StockProfile("HINDALCO INDUSTRIES", 800.0, 1.30, 0.26),
    "GRASIM": StockProfile("GRASIM INDUSTRIES", 2800.0, 1.00, 0.20),
    "CIPLA": StockProfile("CIPLA", 1500.0, 0.55, 0.19),
    "DRREDDY": StockProfile("DR. REDDY'S LABORATORIES", 1250.0, 0.55, 0.19),
    "APOLLOHOSP": StockProfile("APOLLO HOSPITALS ENTER.", 7500.0, 0.70, 0.21),
    "HDFCLIFE": StockProfile("HDFC LIFE INSURANCE", 760.0, 0.75, 0.20),
    "SBILIFE": StockProfile("SBI LIFE INSURANCE", 2000.0, 0.75, 0.19),
    "TATACONSUM": StockProfile("TATA CONSUMER PRODUCTS", 1150.0, 0.70, 0.20),
    "BEL": StockProfile("BHARAT ELECTRONICS", 410.0, 1.20, 0.28),
    "TRENT": StockProfile("TRENT", 4500.0, 1.10, 0.30),
    "SHRIRAMFIN": StockProfile("SHRIRAM FINANCE", 800.0, 1.30, 0.28),
    "ETERNAL": StockProfile("ETERNAL", 300.0, 1.40, 0.35),
    "JIOFIN": StockProfile("JIO FINANCIAL SERVICES", 300.0, 1.20, 0.28),
    "INDUSINDBK": StockProfile("INDUSIND BANK", 850.0, 1.35, 0.32),
    "HEROMOTOCO": StockProfile("HERO MOTOCORP", 5500.0, 0.80, 0.21),
    "MAXHEALTH": StockProfile("MAX HEALTHCARE INS", 1150.0, 0.90, 0.26),
}
